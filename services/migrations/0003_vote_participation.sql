-- The vote service's own tables: who has voted (participation) and the answers it owes
-- to retried requests (idempotency_keys). Ballot secrecy (ARCHITECTURE.md): neither
-- table holds a ballot_id or receipt_id in clear. What participation needs to show a
-- voter their receipt or to supersede their ballot is sealed (AES-256-GCM with a key
-- derived from VOTE_SECRET_KEY); idempotency keys and request fingerprints are HMACs.

CREATE TABLE participation (
    election_id      text NOT NULL REFERENCES elections ON DELETE CASCADE,
    voter            text NOT NULL,      -- the access token's `sub` (pseudonymous handle)
    ballots_cast     integer NOT NULL DEFAULT 1 CHECK (ballots_cast >= 1),
    last_recorded_at timestamptz NOT NULL
        CHECK (last_recorded_at = date_trunc('minute', last_recorded_at)),
    sealed_ballot    bytea NOT NULL,     -- sealed (ballot_id, receipt) of the live ballot
    -- One ballot per voter is the database's rule, whatever the Idempotency-Key.
    CONSTRAINT participation_one_ballot_per_voter PRIMARY KEY (election_id, voter)
);

CREATE TABLE idempotency_keys (
    election_id         text NOT NULL REFERENCES elections ON DELETE CASCADE,
    scope               bytea NOT NULL,  -- HMAC(election_id, voter, Idempotency-Key)
    request_fingerprint bytea NOT NULL,  -- HMAC(method, path, body)
    status              smallint NOT NULL,
    sealed_response     bytea NOT NULL,  -- the response body, sealed (it holds the receipt)
    -- Kept at least until 24 h after the election closes; the vote service deletes
    -- expired rows in the background (services/vote/housekeeping.py).
    expires_at          timestamptz NOT NULL,
    PRIMARY KEY (election_id, scope)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
