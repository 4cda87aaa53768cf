"""The steps of the scenario, each a function of a Locust user's HTTP client. Every
answer is validated (`catch_response`), templated URLs are grouped with `name=`, and
unexpected answers are counted by status and problem `code` (counters.answer).

The ballot step is what real clients must do: one Idempotency-Key per ballot, kept for
every retry after a timeout, a 5xx, a 503 (after its Retry-After) or a 409
request_in_progress. A 503 or 409-in-flight that a retry turns into a 201 is recorded
under its own name as a success; only a ballot given up on counts as a failure.
"""
from __future__ import annotations

import base64
import json
import random
import uuid
from typing import Any

import gevent

from loadtests.invariants import VersionWatch, check_snapshot

from . import counters
from .identities import sign_login
from .state import shared

RETRIABLE = {0, 409, 500, 502, 503, 504}  # 0: timeout or connection error (no answer)


def body(response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


def problem_code(response) -> str | None:
    data = body(response)
    return data.get("code") if isinstance(data, dict) else None


def _fail(response, endpoint: str, expected: str) -> None:
    code = problem_code(response)
    counters.answer(endpoint, response.status_code, code)
    response.failure(f"{endpoint}: HTTP {response.status_code} {code or ''} (expected {expected})")


def login(client, election_id: str, voter_id: str, signs: bool, headers: dict) -> str | None:
    s = shared().scenario
    if signs:
        return _login_signature(client, s.auth_url, election_id, voter_id, headers)
    return _login_otp(client, s.auth_url, election_id, voter_id, headers)


def _token(client, url: str, payload: dict, name: str, headers: dict) -> str | None:
    with client.post(url, json=payload, name=name, headers=headers, catch_response=True) as r:
        data = body(r)
        if r.status_code == 200 and isinstance(data, dict) and data.get("access_token"):
            return data["access_token"]
        _fail(r, name, "200 with a token")
    return None


def _login_otp(client, auth: str, election_id: str, voter_id: str, headers: dict) -> str | None:
    name = "/v1/auth/otp"
    with client.post(f"{auth}/v1/auth/otp", json={"election_id": election_id, "voter_id": voter_id},
                     name=name, headers=headers, catch_response=True) as r:
        challenge = (body(r) or {}).get("challenge_id") if r.status_code == 202 else None
        if not challenge:
            _fail(r, name, "202 with a challenge")
            return None
    name = "/v1/dev/outbox/[election]/[voter]"
    with client.get(f"{auth}/v1/dev/outbox/{election_id}/{voter_id}", name=name, catch_response=True) as r:
        code = (body(r) or {}).get("code") if r.status_code == 200 else None
        if not code:
            _fail(r, name, "200 with a code")
            return None
    return _token(client, f"{auth}/v1/auth/otp/verify", {"challenge_id": challenge, "code": code},
                  "/v1/auth/otp/verify", headers)


def _login_signature(client, auth: str, election_id: str, voter_id: str, headers: dict) -> str | None:
    name = "/v1/auth/signature"
    with client.post(f"{auth}/v1/auth/signature", json={"election_id": election_id, "voter_id": voter_id},
                     name=name, headers=headers, catch_response=True) as r:
        data = body(r) if r.status_code == 200 else None
        if not isinstance(data, dict) or not data.get("nonce") or not data.get("challenge_id"):
            _fail(r, name, "200 with a nonce")
            return None
    signature = sign_login(election_id, voter_id, data["nonce"])
    return _token(client, f"{auth}/v1/auth/signature/verify",
                  {"challenge_id": data["challenge_id"], "signature": signature},
                  "/v1/auth/signature/verify", headers)


def election(client, election_id: str) -> dict | None:
    """GET the public definition; remembers each contest's max_choices for the checks."""
    name = "/v1/elections/[election]"
    with client.get(f"{shared().scenario.results_url}/v1/elections/{election_id}", name=name, catch_response=True) as r:
        data = body(r)
        if r.status_code != 200 or not isinstance(data, dict) or not data.get("contests"):
            _fail(r, name, "200 with contests")
            return None
    state = shared()
    state.definitions[election_id] = data
    state.rules[election_id] = {c["contest_id"]: int(c.get("max_choices", 1)) for c in data["contests"]}
    return data


def token_precinct(token: str) -> str | None:
    """The `pct` claim of an access token, read as a client would (no verification)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["pct"]
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def random_selections(definition: dict, precinct_id: str | None = None) -> dict[str, list[str]]:
    """A random ballot of the contests the public definition lists for the precinct."""
    on_ballot = next((p.get("contests") for p in definition.get("precincts", []) if p.get("precinct_id") == precinct_id), None)
    selections = {}
    for contest in definition["contests"]:
        if on_ballot is not None and contest["contest_id"] not in on_ballot:
            continue
        options = [o["option_id"] for o in contest["options"]]
        most = int(contest.get("max_choices", 1))
        picks = 0 if random.random() < 0.05 else random.randint(1, most)  # 5% abstain
        selections[contest["contest_id"]] = random.sample(options, min(picks, len(options)))
    return selections


def cast_ballot(client, election_id: str, voter_id: str, token: str, selections: dict, seq: int) -> str | None:
    """POST one ballot until a 201 (returns the receipt id) or a final refusal (None)."""
    state = shared()
    key = str(uuid.uuid4())
    url = f"{state.scenario.vote_url}/v1/elections/{election_id}/ballots"
    name = "/v1/elections/[election]/ballots"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    state.writer().attempt(election_id, voter_id, key, seq)  # before sending: a ballot may commit unanswered
    setbacks = 0
    for attempt in range(1, state.scenario.ballot_attempts + 1):
        with client.post(url, json={"selections": selections}, headers=headers, name=name, catch_response=True) as r:
            status = r.status_code
            receipt = (body(r) or {}).get("receipt") if status == 201 else None
            if status == 201 and isinstance(receipt, dict) and receipt.get("receipt_id"):
                if receipt.get("election_id") != election_id or not r.headers.get("Location", "").endswith(receipt["receipt_id"]):
                    r.failure("201 with a receipt for another election or a wrong Location")
                state.writer().receipt(election_id, voter_id, key, receipt["receipt_id"], seq)
                counters.count("ballots acknowledged")
                if setbacks:
                    counters.count("ballots acknowledged after a retry")
                return receipt["receipt_id"]
            if status in RETRIABLE and status != 409 or problem_code(r) == "request_in_progress":
                setbacks += 1
                code = problem_code(r)
                counters.answer(name, status, code)
                if status in (503, 409):  # the service asked us to come back: not a failure
                    r.request_meta["name"] = f"{name} [{status} {code}, retried]"
                    r.success()
                else:
                    r.failure(f"{name}: HTTP {status} {code or r.error!r} (retrying with the same key)")
                delay = _retry_after(r, attempt)
            else:
                _fail(r, name, "201 with a receipt")
                counters.count(f"ballots refused {status}")
                if setbacks:  # an earlier attempt may have committed: the outcome is unknown
                    state.writer().unacked(election_id, voter_id, key, seq)
                return None
        gevent.sleep(delay)
    state.writer().unacked(election_id, voter_id, key, seq)
    counters.count("ballots given up")
    client.request_event.fire(request_type="POST", name=f"{name} [given up]", response_time=0, response_length=0,
                              exception=RuntimeError(f"no 201 after {state.scenario.ballot_attempts} attempts"),
                              context={})
    return None


def _retry_after(response, attempt: int) -> float:
    try:
        hinted = float(response.headers.get("Retry-After", "")) if response.headers else None
    except ValueError:
        hinted = None
    base = hinted if hinted is not None else min(8.0, 0.25 * 2 ** attempt)
    return min(base, 10.0) * random.uniform(0.8, 1.3)  # jitter: no synchronised retry waves


def check_mine(client, election_id: str, token: str, receipt_id: str, ballots_cast: int) -> None:
    name = "/v1/elections/[election]/ballots/mine"
    url = f"{shared().scenario.vote_url}/v1/elections/{election_id}/ballots/mine"
    with client.get(url, headers={"Authorization": f"Bearer {token}"}, name=name, catch_response=True) as r:
        data = body(r)
        if r.status_code != 200 or not isinstance(data, dict):
            return _fail(r, name, "200")
        mine = (data.get("receipt") or {}).get("receipt_id")
        if not data.get("voted") or mine != receipt_id or data.get("ballots_cast", 0) < ballots_cast:
            r.failure(f"ballots/mine shows {data.get('ballots_cast')} ballot(s), receipt {mine}; expected {receipt_id}")


SNAPSHOT_MEMO: dict[tuple[str, bytes], tuple] = {}  # (election, body) → (version, digest, problems)
EVENT_MEMO: dict[bytes, tuple[str, bytes]] = {}  # raw SSE event → (event type, data)


class ResultsReader:
    """One watcher's view of results: ETags for If-None-Match and the versions seen."""

    def __init__(self) -> None:
        self.etags: dict[str, str] = {}
        self.versions = VersionWatch()

    def poll(self, client, election_id: str, precinct_id: str | None = None) -> None:
        base = f"{shared().scenario.results_url}/v1/elections/{election_id}/results"
        url, name = (f"{base}/precincts/{precinct_id}", "/v1/elections/[election]/results/precincts/[precinct]") \
            if precinct_id else (base, "/v1/elections/[election]/results")
        headers = {"If-None-Match": self.etags[url]} if url in self.etags else {}
        with client.get(url, headers=headers, name=name, catch_response=True) as r:
            if r.status_code == 304:
                counters.count("results 304")
                return
            if r.status_code != 200:
                return _fail(r, name, "200 or 304")
            problems = self.check_raw(url, r.content or b"", election_id)
            if problems:
                r.failure("; ".join(problems)[:500])
            if r.headers.get("ETag"):
                self.etags[url] = r.headers["ETag"]

    def check_raw(self, url: str, raw: bytes, election_id: str) -> list[str]:
        """Check the snapshot in `raw` (a 200 body or an SSE event's data). Thousands of
        watchers in one process receive the same bytes for each version: the parse and the
        invariant check run once per distinct body (SNAPSHOT_MEMO), the per-watcher checks
        (version never backwards, one digest per version) run for every watcher."""
        memo = SNAPSHOT_MEMO.get((election_id, raw))
        if memo is None:
            try:
                snapshot = json.loads(raw)
            except ValueError:
                snapshot = None
            if not isinstance(snapshot, dict):
                memo = (None, "", ("not a JSON object",))
            else:
                problems = check_snapshot(snapshot, shared().rules.get(election_id))
                version = snapshot.get("version")
                memo = (version if isinstance(version, int) else None, str(snapshot.get("digest")), tuple(problems))
            counters.count("distinct snapshot bodies parsed")
            if len(SNAPSHOT_MEMO) >= 256:
                SNAPSHOT_MEMO.clear()
            SNAPSHOT_MEMO[(election_id, raw)] = memo
        return self._check_seen(url, memo)

    def _check_seen(self, url: str, memo: tuple) -> list[str]:
        state = shared()
        counters.count("snapshots checked")
        version, digest, found = memo
        problems = list(found)
        if version is not None:
            for problem in (self.versions.see(url, version), state.digests.see(url, version, digest)):
                if problem:
                    problems.append(problem)
        if problems:
            state.violation(url, problems)
        return problems


def hold_stream(client, reader: ResultsReader, election_id: str, seconds: float) -> None:
    """Hold the SSE stream for `seconds`, checking every `results` event it carries."""
    url = f"{shared().scenario.results_url}/v1/elections/{election_id}/results/stream"
    name = "/v1/elections/[election]/results/stream"
    with client.get(url, name=name, stream=True, catch_response=True,
                    headers={"Accept": "text/event-stream", "Accept-Encoding": "identity"}) as r:
        if r.status_code != 200:
            return _fail(r, name, "200 text/event-stream")
        r.success()  # reported now (time to the first byte); events are checked below
    buffer = b""
    with gevent.Timeout(seconds, False):
        for chunk in r.iter_content(chunk_size=8192, decode_content=False):
            buffer += chunk
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                _stream_event(client, reader, url, election_id, event)
    try:
        r._response.release()  # close the stream's socket rather than pool it half-read
    except Exception:  # noqa: BLE001 - already closed
        pass


def _stream_event(client, reader: ResultsReader, url: str, election_id: str, raw: bytes) -> None:
    if raw.startswith(b":"):
        return  # a heartbeat comment
    parsed = EVENT_MEMO.get(raw)  # every subscriber in this process gets the same bytes
    if parsed is None:
        kind, data = "message", []
        for line in raw.decode("utf-8", "replace").splitlines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        parsed = (kind, "\n".join(data).encode())
        if len(EVENT_MEMO) >= 256:
            EVENT_MEMO.clear()
        EVENT_MEMO[raw] = parsed
    kind, data = parsed
    if kind != "results" or not data:
        return  # comments and heartbeats
    counters.count("stream events")
    problems = reader.check_raw(url, data, election_id)
    if problems:
        client.request_event.fire(request_type="SSE", name="results event", response_time=0, response_length=0,
                                  exception=AssertionError("; ".join(problems)[:500]), context={})
