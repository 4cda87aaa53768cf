"""The direct-to-Postgres writers: the service's own preparation and statements through
asyncpg, without HTTP, one ballot or a batch per transaction."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from services.common import roles
from services.common.elections_db import load_elections
from services.common.sealed_box import Sealer
from services.vote.preparing import BallotPreparer
from services.vote.receipts import ReceiptSigner
from services.vote.sealing import Keyring
from services.vote.store import BallotStore
from services.vote.tokens import Claims

from .cpu import CpuMeter
from .vote_ballot import BODY, PATH, SECRET, SELECTIONS
from .vote_report import summary


async def count_ballots(url: str, prefix: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM participation WHERE election_id = 'bench' AND voter LIKE $1", prefix + "%")
    finally:
        await conn.close()


async def direct_phase(label: str, ctx: dict, n: int, batch: int, concurrency: int) -> dict:
    url, pg = ctx["url"], ctx["pg"]
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency,  # as the service connects
                                     server_settings={"synchronous_commit": "on", "role": roles.VOTE})
    keyring = Keyring(SECRET.encode())
    preparer = BallotPreparer(keyring, ReceiptSigner(Ed25519PrivateKey.generate()))
    async with pool.acquire() as conn:
        election = (await load_elections(conn))["bench"]
    items = []
    for i in range(n):
        voter = f"{label}-{i}"
        scope = keyring.idempotency_scope("bench", voter, uuid.uuid4().hex)
        fp = keyring.request_fingerprint("POST", PATH, BODY)
        claims = Claims(voter, "bench", f"p{i % 20:02d}")
        items.append(preparer.prepare(election, claims, scope, fp, SELECTIONS, datetime.now(timezone.utc)))
    store = BallotStore(pool, keyring, Sealer(X25519PrivateKey.generate().public_key()))
    chunks = iter([items[i:i + batch] for i in range(0, n, batch)])

    async def writer() -> None:
        for chunk in chunks:
            await store.write(chunk)

    meter = CpuMeter({"postgres": pg.pids})
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    meter.stop(load_generator="self")
    await pool.close()
    return summary(label, n, seconds, cpu=meter, extra={
        "driver": f"asyncpg, {batch} ballot(s) per transaction, {concurrency} concurrent (load_generator = the writer)",
        "committed_in_db": await count_ballots(url, f"{label}-")})
