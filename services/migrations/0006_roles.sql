-- Least privilege: one NOLOGIN group role per service, holding only the grants its SQL
-- needs (every statement is in services/auth, vote, tally, results and cli). Services
-- assume their role on every connection (DATABASE_ROLE, README "Database roles"); the
-- login user must be a member: `GRANT ballotline_vote TO vote_login`.
--
-- Roles are cluster-wide, so two databases on one cluster both create them if missing
-- (and tolerate a concurrent migration creating them first); grants are per database.
-- Everything is explicit: no ALTER DEFAULT PRIVILEGES, so a new table is reachable by
-- nobody until a migration grants it.

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['ballotline_auth', 'ballotline_vote', 'ballotline_tally',
                                'ballotline_results', 'ballotline_operator'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migration created it meanwhile
            END;
        END IF;
    END LOOP;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ballotline_auth, ballotline_vote, ballotline_tally,'
                   ' ballotline_results, ballotline_operator', current_schema());
END
$$;

-- Every service keeps the election catalog in memory (services/common/catalog.py).
GRANT SELECT ON elections TO ballotline_auth, ballotline_vote, ballotline_tally, ballotline_results;

-- auth: reads the roll to log voters in; publishes its token signing keys.
GRANT SELECT ON voters TO ballotline_auth;
GRANT SELECT, INSERT, UPDATE, DELETE ON signing_keys TO ballotline_auth;

-- vote: who has voted (and, through migration 0005's trigger, how many), the answers
-- owed to retries, and the sealed outbox it fills. It never reads the outbox and has no
-- access at all to ballots. Just before COMMIT it share-locks the batch's elections
-- (SELECT ... FOR SHARE needs an UPDATE grant on some column: updated_at, the one whose
-- change is harmless) so an operator's close waits for batches in flight.
GRANT SELECT, INSERT, UPDATE ON participation TO ballotline_vote;
GRANT SELECT, INSERT, UPDATE ON participation_counts TO ballotline_vote;
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO ballotline_vote;
GRANT INSERT ON tally_outbox TO ballotline_vote;
GRANT UPDATE (updated_at) ON elections TO ballotline_vote;

-- tally: opens and deletes outbox messages, writes ballots and the counts, appends the
-- published history. It reads how many voters have a ballot (participation_counts),
-- never who.
GRANT SELECT, DELETE ON tally_outbox TO ballotline_tally;
GRANT SELECT, INSERT, UPDATE (superseded, annulled) ON ballots TO ballotline_tally;
GRANT SELECT, INSERT, UPDATE ON tally_votes, tally_contests, tally_precincts TO ballotline_tally;
GRANT SELECT ON precincts TO ballotline_tally;
GRANT SELECT, INSERT ON results_snapshots TO ballotline_tally;
GRANT SELECT, INSERT, UPDATE ON results_heads TO ballotline_tally;
GRANT SELECT ON participation_counts TO ballotline_tally;

-- results: read-only, on what it serves: published snapshots, the roll's eligible counts
-- (zero snapshots) and a receipt's status (never a ballot's selections or precinct).
GRANT SELECT ON results_snapshots, results_heads TO ballotline_results;
GRANT SELECT (election_id, precinct_id, eligible) ON precincts TO ballotline_results;
GRANT SELECT (ballot_id, receipt_id, election_id, superseded, annulled) ON ballots TO ballotline_results;

-- operator (`ballotline election|roll|demo`): definitions, the roll, the audit trail.
-- Migrations are not the operator's: they run as the owner of the tables.
GRANT SELECT, INSERT, UPDATE ON elections, precincts TO ballotline_operator;
GRANT SELECT, INSERT, DELETE ON voters TO ballotline_operator;
GRANT INSERT ON election_events TO ballotline_operator;

-- History is append-only: the published results chain and the operators' audit trail.
-- Nobody is granted UPDATE or DELETE on them (revoked again in case a DBA granted it),
-- and a trigger refuses both even to the owner, by accident or by cascade from a
-- deleted election (TRUNCATE, which the test suite uses to empty tables, stays the
-- owner's).
REVOKE UPDATE, DELETE, TRUNCATE ON results_snapshots, election_events FROM PUBLIC,
    ballotline_auth, ballotline_vote, ballotline_tally, ballotline_results, ballotline_operator;

CREATE FUNCTION ballotline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING HINT = 'published history is never rewritten';
END
$$;

CREATE TRIGGER results_snapshots_append_only BEFORE UPDATE OR DELETE ON results_snapshots
    FOR EACH ROW EXECUTE FUNCTION ballotline_append_only();
CREATE TRIGGER election_events_append_only BEFORE UPDATE OR DELETE ON election_events
    FOR EACH ROW EXECUTE FUNCTION ballotline_append_only();
