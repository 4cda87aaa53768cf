-- The public audit log (API.md "Operators and the public audit log"): one hash chain per
-- election, appended in the same transaction as the change it records
-- (services/common/audit_log.py computes each entry's hash; services/common/audit_chain.py
-- defines it). Postgres refuses UPDATE and DELETE on it, to every role and the owner.
--
-- `details` is `json`, not `jsonb`: json keeps the text exactly as written, so the values
-- read back are the values that were hashed (jsonb would renormalise numbers and keys).

CREATE TABLE audit_log (
    election_id text   NOT NULL REFERENCES elections,
    seq         bigint NOT NULL CHECK (seq >= 1),
    at          timestamptz NOT NULL,
    actor       text   NOT NULL,
    action      text   NOT NULL,
    reason      text,
    details     json   NOT NULL,
    prev_hash   text   NOT NULL CHECK (prev_hash ~ '^sha256:[0-9a-f]{64}$'),
    hash        text   NOT NULL CHECK (hash ~ '^sha256:[0-9a-f]{64}$'),
    -- Two appends that both read seq n as the last cannot both land: one chain, no fork.
    PRIMARY KEY (election_id, seq)
);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ballotline_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC,
    ballotline_auth, ballotline_vote, ballotline_tally, ballotline_results, ballotline_operator;
-- operator: appends (reading the head it links to) and verifies; results: serves it.
GRANT SELECT, INSERT ON audit_log TO ballotline_operator;
GRANT SELECT ON audit_log TO ballotline_results;

-- Backfill: every election's existing `election_events` become the first entries of its
-- chain, oldest first, with the action names of the 0.2 contract. The canonical JSON is
-- built here the way Python's json.dumps(sort_keys=True, separators=(",", ":"),
-- ensure_ascii=False) writes it: keys in code point order (COLLATE "C" on UTF-8), the
-- same string escapes (escape_json), and the integers and strings these events hold.
CREATE FUNCTION ballotline_canonical_json(j jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        RETURN '{' || coalesce((SELECT string_agg(to_json(k)::text || ':' || ballotline_canonical_json(v), ','
                                                  ORDER BY k COLLATE "C")
                                FROM jsonb_each(j) AS e(k, v)), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || coalesce((SELECT string_agg(ballotline_canonical_json(v), ',' ORDER BY n)
                                FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n)), '') || ']';
    ELSE
        RETURN j::text;
    END CASE;
END
$$;

DO $$
DECLARE
    event record;
    last_election text := NULL;
    next_seq bigint;
    prev text;
    entry jsonb;
    entry_hash text;
BEGIN
    FOR event IN SELECT * FROM election_events ORDER BY election_id, at, event_id LOOP
        IF last_election IS DISTINCT FROM event.election_id THEN
            last_election := event.election_id;
            next_seq := 1;
            prev := 'sha256:' || repeat('0', 64);
        END IF;
        entry := jsonb_build_object(
            'seq', next_seq,
            'at', to_char(event.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'actor', event.actor,
            'action', CASE event.action WHEN 'create' THEN 'election.create' WHEN 'open' THEN 'election.open'
                                        WHEN 'close' THEN 'election.close' WHEN 'roll_import' THEN 'roll.import'
                                        ELSE event.action END,
            'reason', NULL,
            'details', event.detail,
            'prev_hash', prev);
        entry_hash := 'sha256:' || encode(sha256(convert_to(ballotline_canonical_json(entry), 'UTF8')), 'hex');
        INSERT INTO audit_log (election_id, seq, at, actor, action, reason, details, prev_hash, hash)
        VALUES (event.election_id, next_seq, event.at, event.actor, entry->>'action', NULL,
                ballotline_canonical_json(event.detail)::json, prev, entry_hash);
        prev := entry_hash;
        next_seq := next_seq + 1;
    END LOOP;
END
$$;

DROP FUNCTION ballotline_canonical_json(jsonb);
