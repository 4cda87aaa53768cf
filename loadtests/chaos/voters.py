"""Voters for a chaos experiment: each logs in with a one-time code (the development
outbox) and casts one ballot, retrying every step — a ballot always with the same
Idempotency-Key — until it is acknowledged or the experiment's patience runs out. What
they saw goes to the ledger (loadtests/ledger.py, read by loadtests/audit.py) and to a
tally of answers: status codes, problem codes, connection errors, with their times.
"""
from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from loadtests.ledger import LedgerWriter


@dataclass
class Observations:
    answers: Counter = field(default_factory=Counter)  # "201", "503 storage_unavailable", "connection error", …
    failures: list[float] = field(default_factory=list)  # times of 5xx answers and connection errors
    acknowledged: list[float] = field(default_factory=list)  # times of 201s
    gave_up: int = 0


class Voters:
    def __init__(self, urls: dict[str, str], election_id: str, voters, ledger: LedgerWriter) -> None:
        """`voters`: (voter_id, selections) pairs, each voter's ballot for their precinct."""
        self.urls, self.election_id, self.ledger = urls, election_id, ledger
        self._voters = iter(voters)
        self.seen = Observations()

    async def run(self, concurrency: int, until: float, patience: float) -> Observations:
        """Start voters until `until` (monotonic); each may keep retrying `patience` s longer."""
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
            await asyncio.gather(*(self._loop(http, until, patience) for _ in range(concurrency)))
        return self.seen

    async def _loop(self, http: aiohttp.ClientSession, until: float, patience: float) -> None:
        while time.monotonic() < until:
            voter = next(self._voters, None)
            if voter is None:
                return
            await self._vote(http, *voter, until + patience)

    async def _vote(self, http: aiohttp.ClientSession, voter: str, selections: dict, deadline: float) -> None:
        forwarded = {"X-Forwarded-For": f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"}
        token = await self._retry(deadline, lambda: self._login(http, voter, forwarded))
        if token is None:
            self.seen.gave_up += 1
            return
        key = uuid.uuid4().hex
        self.ledger.attempt(self.election_id, voter, key, 1)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key, **forwarded}
        receipt = await self._retry(deadline, lambda: self._cast(http, headers, {"selections": selections}))
        if receipt is None:
            self.ledger.unacked(self.election_id, voter, key, 1)
            self.seen.gave_up += 1
        else:
            self.ledger.receipt(self.election_id, voter, key, receipt, 1)

    async def _retry(self, deadline: float, step):
        for attempt in itertools.count():
            try:
                done, value = await step()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                self._saw("connection error", failure=True)
                done, value = False, None
            if done:
                return value
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt) * random.uniform(0.5, 1.0))
        return None

    def _saw(self, answer: str, *, failure: bool = False) -> None:
        self.seen.answers[answer] += 1
        if failure:
            self.seen.failures.append(time.monotonic())

    async def _answer(self, response: aiohttp.ClientResponse) -> tuple[int, dict]:
        body = await response.json(content_type=None) if response.content_length != 0 else {}
        code = body.get("code", "") if isinstance(body, dict) else ""
        self._saw(f"{response.status} {code}".strip(), failure=response.status >= 500)
        return response.status, body if isinstance(body, dict) else {}

    async def _login(self, http, voter: str, forwarded: dict) -> tuple[bool, str | None]:
        auth = self.urls["auth"]
        async with http.post(f"{auth}/v1/auth/otp", json={"election_id": self.election_id, "voter_id": voter},
                             headers=forwarded) as r:
            status, body = await self._answer(r)
        if status != 202:
            return False, None
        async with http.get(f"{auth}/v1/dev/outbox/{self.election_id}/{voter}") as r:
            status, outbox = await self._answer(r)
        if status != 200:
            return False, None
        async with http.post(f"{auth}/v1/auth/otp/verify", json={"challenge_id": body["challenge_id"],
                             "code": outbox["code"]}, headers=forwarded) as r:
            status, body = await self._answer(r)
        return (True, body["access_token"]) if status == 200 else (False, None)

    async def _cast(self, http, headers: dict, ballot: dict) -> tuple[bool, str | None]:
        async with http.post(f"{self.urls['vote']}/v1/elections/{self.election_id}/ballots", json=ballot,
                             headers=headers) as r:
            status, body = await self._answer(r)
        if status == 201:
            self.seen.acknowledged.append(time.monotonic())
            return True, body["receipt"]["receipt_id"]
        return False, None
