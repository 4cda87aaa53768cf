"""Published snapshots in Redis: one hash per election holding the pre-encoded bodies,
announced on a pub/sub channel. Redis only ever holds copies of what Postgres holds.

    ballotline:results:{election_id}   version → N, body → total, p:{precinct_id} → precinct
    channel ballotline:results         message: the election id

The write is a script that refuses a version not newer than the stored one, so Redis
never goes backwards whichever writer is late.
"""
from __future__ import annotations

import redis.asyncio as aioredis

CHANNEL = "ballotline:results"
TOTAL_FIELD = b"body"
PRECINCT_PREFIX = b"p:"

_STORE = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'version', ARGV[1])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return 1
"""


def key(election_id: str) -> str:
    return f"ballotline:results:{election_id}"


def field(scope: str) -> bytes:
    return TOTAL_FIELD if scope == "" else PRECINCT_PREFIX + scope.encode()


async def store(redis: aioredis.Redis, election_id: str, version: int, bodies: dict[str, bytes]) -> bool:
    """Write the bodies {scope: bytes} as `version`; False when Redis already holds it or newer."""
    args: list[object] = [version, election_id]
    for scope, body in bodies.items():
        args += [field(scope), body]
    return bool(await redis.eval(_STORE, 2, key(election_id), CHANNEL, *args))


async def versions(redis: aioredis.Redis, election_ids: list[str]) -> dict[str, int]:
    """The stored version of each election (0 when Redis holds none)."""
    if not election_ids:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for election_id in election_ids:
            pipe.hget(key(election_id), "version")
        found = await pipe.execute()
    return {e: int(v) if v else 0 for e, v in zip(election_ids, found)}


async def load(redis: aioredis.Redis, election_id: str) -> tuple[int, dict[str, bytes]]:
    """(version, {scope: body}) as stored; (0, {}) when absent."""
    raw = await redis.hgetall(key(election_id))
    version = int(raw.pop(b"version", 0) or 0)
    bodies = {}
    for name, body in raw.items():
        if name == TOTAL_FIELD:
            bodies[""] = body
        elif name.startswith(PRECINCT_PREFIX):
            bodies[name[len(PRECINCT_PREFIX):].decode()] = body
    return version, bodies
