"""Login challenges in Redis: one hash per challenge, living `ttl` seconds.

A challenge holds what the answer is checked against (a keyed code digest, or a nonce
and the voter's public key) and what the token needs (handle, election, precinct). Decoy
challenges — for unknown voters, closed elections and the like — have the same fields
and lifetime but can never be answered: their digest is not a hex HMAC, their public
key has no private half anywhere.

Settling an answer is one Lua script, so it is atomic across workers: a right answer
deletes the challenge and returns its claims (two concurrent right answers: exactly one
wins, the other finds nothing); a wrong one increments `attempts`, and the
`max_attempts`-th wrong one marks the challenge locked for the rest of its life, so
every later answer — right or not — is refused.

Why comparing code digests with `==` inside Lua is safe: what is compared is
HMAC-SHA256(secret, challenge id, code), never the code. Even if the comparison leaked
how many leading bytes match, an attacker cannot choose a candidate whose digest has a
wanted prefix without the secret, so the leak says nothing about the code.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

_SETTLE = """
local key, kind, answer, ok_flag, max_attempts = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local f = redis.call('HMGET', key, 'kind', 'state', 'expect', 'attempts')
if not f[1] or f[1] ~= kind then return {'missing'} end
local ttl = redis.call('TTL', key)
if f[2] == 'locked' then return {'locked', ttl} end
local right
if ok_flag == '' then right = (f[3] == answer) else right = (ok_flag == '1' and f[3] == answer) end
if right then
  local claims = redis.call('HMGET', key, 'eid', 'pct', 'handle', 'who')
  redis.call('DEL', key)
  return {'ok', claims[1], claims[2], claims[3], claims[4]}
end
local n = redis.call('HINCRBY', key, 'attempts', 1)
if n >= max_attempts then
  redis.call('HSET', key, 'state', 'locked')
  return {'locked', ttl}
end
return {'wrong', max_attempts - n}
"""


@dataclass(frozen=True)
class Claims:
    """What a settled challenge yields for the token."""

    election_id: str
    precinct_id: str
    handle: str
    who: str  # the voter's pseudonym, for logs


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | wrong | locked | missing
    claims: Claims | None = None
    retry_after: int = 1


def new_challenge_id() -> str:
    return secrets.token_urlsafe(24)


class ChallengeStore:
    def __init__(self, redis: aioredis.Redis, *, ttl: int, max_attempts: int) -> None:
        self._redis = redis
        self._settle = redis.register_script(_SETTLE)
        self.ttl = ttl
        self.max_attempts = max_attempts

    @staticmethod
    def _key(challenge_id: str) -> str:
        return "auth:ch:" + challenge_id

    async def create(self, challenge_id: str, kind: str, expect: str, fields: dict[str, str | bytes]) -> None:
        key = self._key(challenge_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"kind": kind, "state": "pending", "expect": expect, "attempts": 0, **fields})
            pipe.expire(key, self.ttl)
            await pipe.execute()

    async def load(self, challenge_id: str) -> dict[bytes, bytes]:
        return await self._redis.hgetall(self._key(challenge_id))

    async def settle(self, challenge_id: str, kind: str, answer: str, verified: bool | None = None) -> Outcome:
        """Settle one answer. With `verified=None` the answer is compared to the stored
        expectation; otherwise the caller checked it (a signature) and `answer` is the
        expectation it checked against, so a challenge replaced meanwhile is not settled."""
        flag = "" if verified is None else ("1" if verified else "0")
        reply = await self._settle(keys=[self._key(challenge_id)], args=[kind, answer, flag, self.max_attempts])
        status = _text(reply[0])
        if status == "ok":
            eid, pct, handle, who = (_text(v) for v in reply[1:5])
            return Outcome("ok", Claims(eid, pct, handle, who))
        if status == "locked":
            return Outcome("locked", retry_after=max(1, int(reply[1])))
        return Outcome(status)


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
