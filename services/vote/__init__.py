"""The vote service: idempotent, durable, fast ballot casting (API.md "Vote service").

    app.py         wiring (SERVICE_NAME, DEFAULT_PORT, load_settings, create_app)
    config.py      VOTE_* settings          handlers.py   HTTP in/out (thin)
    casting.py     the use cases            preparing.py  ids, receipt, sealed values (pure)
    model.py       pending ballot, outcomes errors.py     the error vocabulary
    schemas.py     wire types (msgspec)     receipts.py   signed receipts (pure)
    tokens.py      access-token checks      jwks.py       the auth service's keys (I/O)
    sealing.py     HMAC / AES-GCM subkeys   idempotency.py  key rules, in-flight set
    batcher.py     group commit             store.py + sql.py  the Postgres adapter
    pool.py        durable pool context     housekeeping.py  expired-key deletion
    metrics.py     ballotline_vote_* metrics
"""
