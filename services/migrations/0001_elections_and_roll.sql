-- Elections, their precincts, the voter roll, the operators' audit trail, and the auth
-- service's signing keys.

CREATE TABLE elections (
    election_id  text PRIMARY KEY CHECK (election_id ~ '^[a-z0-9-]{1,64}$'),
    title        text NOT NULL,
    -- The definition exactly as the operator created it (contests, options, rules).
    definition   jsonb NOT NULL,
    -- Effective phase times: the schedule, moved by `ballotline election open|close`.
    opens_at     timestamptz NOT NULL,
    closes_at    timestamptz NOT NULL,
    revoting     boolean NOT NULL DEFAULT false,
    auth_methods text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Precincts are also in the definition; this table is what voters and counts reference.
CREATE TABLE precincts (
    election_id text NOT NULL REFERENCES elections ON DELETE CASCADE,
    precinct_id text NOT NULL,
    name        text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('online', 'paper')),
    position    int  NOT NULL,
    -- Voters on the roll in this precinct, maintained by the roll import.
    eligible    int  NOT NULL DEFAULT 0,
    PRIMARY KEY (election_id, precinct_id)
);

CREATE TABLE voters (
    election_id text NOT NULL,
    voter_id    text NOT NULL,
    precinct_id text NOT NULL,
    phone       text,
    public_key  bytea CHECK (public_key IS NULL OR length(public_key) = 32),
    -- The pseudonymous voter handle used as the token's `sub` and by the vote service:
    -- random, so it reveals nothing and never changes when a secret is rotated.
    handle      text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', ''),
    PRIMARY KEY (election_id, voter_id),
    FOREIGN KEY (election_id, precinct_id) REFERENCES precincts ON DELETE CASCADE
);
CREATE UNIQUE INDEX voters_handle_key ON voters (election_id, handle);

CREATE TABLE election_events (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    election_id text NOT NULL REFERENCES elections ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX election_events_election ON election_events (election_id, at);

-- Public halves of the auth service's token signing keys. A key stays published while a
-- replica signs with it and for one token lifetime after (`last_used_at`).
CREATE TABLE signing_keys (
    kid           text PRIMARY KEY,
    public_jwk    jsonb NOT NULL,
    first_used_at timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now()
);
