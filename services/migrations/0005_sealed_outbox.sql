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

-- How many voters have a ballot, per election, kept in the same transactions as the
-- participation rows (a trigger): the tally checks `turnout.voted` against it before
-- publishing, in the same database snapshot as the counts, without counting a million
-- rows every quarter second. Sixteen slots per election, one picked at random per
-- statement, so concurrent vote batches rarely wait for each other.
CREATE TABLE participation_counts (
    election_id text     NOT NULL REFERENCES elections ON DELETE CASCADE,
    slot        smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    voters      bigint   NOT NULL,
    PRIMARY KEY (election_id, slot)
);

CREATE FUNCTION participation_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO participation_counts (election_id, slot, voters)
        SELECT election_id, floor(random() * 16)::smallint, count(*) FROM new_rows GROUP BY election_id
        ON CONFLICT (election_id, slot) DO UPDATE SET voters = participation_counts.voters + EXCLUDED.voters;
    ELSE
        INSERT INTO participation_counts (election_id, slot, voters)
        SELECT election_id, floor(random() * 16)::smallint, -count(*) FROM old_rows GROUP BY election_id
        ON CONFLICT (election_id, slot) DO UPDATE SET voters = participation_counts.voters + EXCLUDED.voters;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER participation_inserted AFTER INSERT ON participation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION participation_counted();
CREATE TRIGGER participation_deleted AFTER DELETE ON participation
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION participation_counted();

INSERT INTO participation_counts (election_id, slot, voters)
SELECT election_id, 0, count(*) FROM participation GROUP BY election_id;
