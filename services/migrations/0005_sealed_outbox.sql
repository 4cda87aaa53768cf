-- Secrecy, deeper (ARCHITECTURE.md): the vote transaction no longer writes a ballot row.
-- It writes the voter's participation row and ONE outbox message per ballot, sealed to
-- the tally key (services/common/outbox.py, sealed_box.py): the new ballot, and the
-- ballot it supersedes, together. The tally opens messages in mixed batches and writes
-- the plaintext ballot rows in its own transaction, in random order, with no time at all.
--
-- So nothing the vote transaction writes (rows, xmin, WAL records) holds a choice in
-- clear, and no ballot row shares a transaction, a physical neighbourhood or a time with
-- its voter. An upgrade must start with an empty outbox: drain it with the previous
-- version (`ballotline tally run --once`) before migrating.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM tally_outbox) THEN
        RAISE EXCEPTION 'tally_outbox is not empty: run `ballotline tally run --once` with the previous version, then migrate';
    END IF;
END
$$;

DROP TABLE tally_outbox;

CREATE TABLE tally_outbox (
    outbox_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the tally applies in this order
    election_id text  NOT NULL REFERENCES elections ON DELETE CASCADE,
    sealed      bytea NOT NULL                                    -- one padded, sealed message
);
CREATE INDEX tally_outbox_election ON tally_outbox (election_id, outbox_id);

-- A ballot row now carries no time: the tally's batch is the finest moment it could tell,
-- and even that is not kept.
ALTER TABLE ballots DROP COLUMN recorded_at;
