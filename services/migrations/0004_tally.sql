-- The tally (owned by the results service): incremental counts kept by the tally worker,
-- and every published results snapshot as a hash chain.
--
-- Counts are only ever changed by the tally worker, in the same transaction that deletes
-- the tally_outbox rows it applies (exactly once). A missing row means zero.

CREATE TABLE tally_votes (
    election_id text   NOT NULL,
    precinct_id text   NOT NULL,
    contest_id  text   NOT NULL,
    option_id   text   NOT NULL,
    votes       bigint NOT NULL,
    PRIMARY KEY (election_id, precinct_id, contest_id, option_id),
    FOREIGN KEY (election_id, precinct_id) REFERENCES precincts ON DELETE CASCADE
);

-- Live ballots naming the contest, and those that abstained in it (an empty list).
CREATE TABLE tally_contests (
    election_id text   NOT NULL,
    precinct_id text   NOT NULL,
    contest_id  text   NOT NULL,
    ballots     bigint NOT NULL,
    abstentions bigint NOT NULL,
    PRIMARY KEY (election_id, precinct_id, contest_id),
    FOREIGN KEY (election_id, precinct_id) REFERENCES precincts ON DELETE CASCADE
);

-- Live (counted, not superseded, not annulled) ballots per precinct: turnout "voted".
CREATE TABLE tally_precincts (
    election_id text   NOT NULL,
    precinct_id text   NOT NULL,
    voted       bigint NOT NULL,
    PRIMARY KEY (election_id, precinct_id),
    FOREIGN KEY (election_id, precinct_id) REFERENCES precincts ON DELETE CASCADE
);

-- Every published snapshot. scope '' is the election total, otherwise a precinct_id.
-- previous_digest links each snapshot to the one published before it in the same scope:
-- any number ever shown can be traced, and a rewritten history breaks the chain.
CREATE TABLE results_snapshots (
    election_id     text        NOT NULL REFERENCES elections ON DELETE CASCADE,
    scope           text        NOT NULL,
    version         bigint      NOT NULL CHECK (version > 0),
    digest          text        NOT NULL,
    previous_digest text,
    body            jsonb       NOT NULL,
    published_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (election_id, scope, version)
);

-- The latest published snapshot per scope. Its election-total row holds the version
-- counter: versions come from Postgres, so losing Redis never sends them backwards.
-- content_key is a hash of the snapshot without version/as_of/digest: unchanged
-- results are not republished.
CREATE TABLE results_heads (
    election_id text   NOT NULL REFERENCES elections ON DELETE CASCADE,
    scope       text   NOT NULL,
    version     bigint NOT NULL,
    digest      text   NOT NULL,
    content_key text   NOT NULL,
    PRIMARY KEY (election_id, scope)
);
