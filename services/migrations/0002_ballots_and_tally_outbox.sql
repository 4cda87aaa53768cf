-- Ballots and the tally outbox: the contract between the vote service (writer) and the
-- tally worker (reader). Ballot secrecy: no voter column, no sequence, no fine time.

CREATE TABLE ballots (
    ballot_id   uuid PRIMARY KEY,                 -- random (uuid4), never sequential
    receipt_id  text NOT NULL UNIQUE,             -- random; what the voter's receipt names
    election_id text NOT NULL REFERENCES elections ON DELETE CASCADE,
    precinct_id text NOT NULL,
    selections  jsonb NOT NULL,                   -- {"contest_id": ["option_id", ...], ...}
    recorded_at timestamptz NOT NULL CHECK (recorded_at = date_trunc('minute', recorded_at)),
    superseded  boolean NOT NULL DEFAULT false,   -- a later ballot of the same voter counts
    annulled    boolean NOT NULL DEFAULT false,   -- removed by an audited operator action
    FOREIGN KEY (election_id, precinct_id) REFERENCES precincts ON DELETE CASCADE
);
CREATE INDEX ballots_election_precinct ON ballots (election_id, precinct_id);

-- Written in the same transaction as the ballot: +1 for a new ballot, -1 for the ballot
-- it supersedes or an annulled one. The tally worker applies and deletes rows in one
-- transaction, so each is counted exactly once.
CREATE TABLE tally_outbox (
    outbox_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    election_id text NOT NULL,
    ballot_id   uuid NOT NULL REFERENCES ballots ON DELETE CASCADE,
    delta       smallint NOT NULL CHECK (delta IN (-1, 1))
);
CREATE INDEX tally_outbox_ballot ON tally_outbox (ballot_id);
