"""The vote service's SQL, multi-row through unnest() so one statement serves a batch."""

CLAIM_FIELDS = ("election_id", "scope", "request_fingerprint", "sealed_response", "keep_until")
CLAIM_KEYS = """
INSERT INTO idempotency_keys (election_id, scope, request_fingerprint, status, sealed_response, expires_at)
SELECT e, s, f, 201, r, x FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bytea[], $5::timestamptz[])
    AS t(e, s, f, r, x)
ON CONFLICT DO NOTHING
RETURNING scope
"""
FIND_KEYS = """
SELECT election_id, scope, request_fingerprint, status, sealed_response FROM idempotency_keys
WHERE (election_id, scope) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))
"""
RELEASE_KEYS = """
DELETE FROM idempotency_keys WHERE (election_id, scope) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))
"""
PARTICIPATION_FIELDS = ("election_id", "voter", "recorded_at", "sealed_ref")
INSERT_PARTICIPATION = """
INSERT INTO participation (election_id, voter, ballots_cast, last_recorded_at, sealed_ballot)
SELECT e, v, 1, r, s FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bytea[]) AS t(e, v, r, s)
ON CONFLICT DO NOTHING
RETURNING election_id, voter
"""
LOCK_PARTICIPATION = """
SELECT election_id, voter, sealed_ballot FROM participation
WHERE (election_id, voter) IN (SELECT * FROM unnest($1::text[], $2::text[]))
ORDER BY election_id, voter
FOR UPDATE
"""
UPDATE_PARTICIPATION = """
UPDATE participation p
SET ballots_cast = p.ballots_cast + 1, last_recorded_at = t.r, sealed_ballot = t.s
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bytea[]) AS t(e, v, r, s)
WHERE p.election_id = t.e AND p.voter = t.v
"""
INSERT_OUTBOX = """
INSERT INTO tally_outbox (election_id, sealed) SELECT * FROM unnest($1::text[], $2::bytea[])
"""
# Just before COMMIT: which of the batch's elections still accept ballots, by the database's
# clock. FOR SHARE makes an operator's change of the times (close, extend) wait for the
# batches in flight, and the batches after it see the new times.
STILL_OPEN = """
SELECT election_id, opens_at <= clock_timestamp() AND clock_timestamp() < closes_at AS open
FROM elections WHERE election_id = ANY($1::text[])
FOR SHARE
"""
READ_PARTICIPATION = """
SELECT ballots_cast, last_recorded_at, sealed_ballot FROM participation WHERE election_id = $1 AND voter = $2
"""
DELETE_EXPIRED_KEYS = """
DELETE FROM idempotency_keys WHERE ctid IN (
    SELECT k.ctid FROM idempotency_keys k JOIN elections e USING (election_id)
    WHERE k.expires_at < now() AND e.closes_at + interval '24 hours' < now()
    LIMIT $1)
"""
