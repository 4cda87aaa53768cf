"""One tally key pair for the whole test run, and the settings and environment that use
it: the vote service seals to the public half, the tally opens with the private half."""
from __future__ import annotations

import asyncpg

from services.common import outbox
from services.common.election import ElectionDefinition
from services.common.sealed_box import Opener, Sealer, generate_pem, load_private_keys
from services.common.settings import Env
from services.tally import tally_db
from services.tally.settings import TallySettings

PRIVATE_PEM, PUBLIC_PEM = generate_pem()
ENV = {"TALLY_PRIVATE_KEY": PRIVATE_PEM.decode(), "TALLY_PUBLIC_KEY": PUBLIC_PEM.decode()}
KEYS = tuple(load_private_keys(Env(ENV), "TALLY_PRIVATE_KEY"))
SEALER = Sealer(KEYS[0].public_key())


def tally_settings(**overrides) -> TallySettings:
    return TallySettings(keys=KEYS, **overrides)


def sealed(definition: ElectionDefinition, message: outbox.Message) -> bytes:
    """A message as the vote service stores it in the outbox."""
    size = outbox.padded_size(definition)
    return SEALER.batch().seal(outbox.encode(message, size), definition.election_id.encode())


OPENER = Opener(list(KEYS))


async def outbox_messages(pool: asyncpg.Pool) -> list[tuple[str, outbox.Message]]:
    """Every pending outbox message, opened, in outbox order."""
    rows = await pool.fetch("SELECT election_id, sealed FROM tally_outbox ORDER BY outbox_id")
    return [(r["election_id"], outbox.decode(OPENER.open(bytes(r["sealed"]), r["election_id"].encode()))) for r in rows]


async def tally_now(pool: asyncpg.Pool) -> int:
    """Apply every pending outbox message as the tally does; how many there were."""
    total = 0
    while (applied := await tally_db.apply_batch(pool, 1000, OPENER)).rows:
        total += applied.rows
    return total
