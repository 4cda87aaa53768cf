"""Login with a one-time code sent by SMS.

The code (6 digits from `secrets`) is stored only as a keyed digest bound to its
challenge; it leaves the process only through the sender, in the background.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from .challenges import new_challenge_id
from .delivery import Dispatcher
from .errors import InvalidCode
from .login import Issued, LoginFlow
from .senders import CodeMessage


@dataclass(frozen=True)
class CodeChallenge:
    challenge_id: str
    expires_in: int


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


@dataclass
class OtpLogin:
    flow: LoginFlow
    dispatcher: Dispatcher

    async def request(self, election_id: str, voter_id: str, address: str) -> CodeChallenge:
        admission = await self.flow.admit("otp", election_id, voter_id, address)
        store, keys = self.flow.store, self.flow.keys
        challenge_id = new_challenge_id()
        voter = admission.voter
        if voter is None:
            # Unanswerable: a real digest is 64 hex characters, this never equals one.
            expect = "decoy:" + secrets.token_hex(32)
            fields = {"eid": "", "pct": "", "handle": "", "who": admission.who}
        else:
            code = new_code()
            expect = keys.code_digest(challenge_id, code)
            fields = {"eid": election_id, "pct": voter.precinct_id, "handle": voter.handle, "who": admission.who}
        await store.create(challenge_id, "otp", expect, fields)
        if voter is not None:
            assert voter.phone is not None
            message = CodeMessage(election_id, voter_id, admission.who, voter.phone, code, store.ttl)
            await self.dispatcher.submit(message)
        return CodeChallenge(challenge_id, store.ttl)

    async def verify(self, challenge_id: str, code: str, address: str) -> Issued:
        await self.flow.limit_verification(address)
        digest = self.flow.keys.code_digest(challenge_id, code)
        outcome = await self.flow.store.settle(challenge_id, "otp", digest)
        return self.flow.conclude("otp", outcome, InvalidCode())
