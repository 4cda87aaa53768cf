"""The audit after every load run: nothing acknowledged was lost, nothing counted twice,
and every published number equals the ballots.

    python -m loadtests.audit --run-dir DIR --database-url URL --results-url URL ELECTION...

- lost: a ledger receipt missing from `ballots`, annulled, or superseded although it was
  the voter's last acknowledged ballot (and no unanswered attempt could explain it);
- duplicates: a voter with two live ballots among its receipts, or more live ballots than
  participation rows (one row per voter is the database's rule);
- mismatches: live ballots != participation rows != the published turnout; the published
  per-contest and per-precinct figures != a recount of the ballots table; the results
  service's own recount (incremental == full) reporting differences; outbox rows not
  drained; and every invariant violation a watcher saw during the run.

Prints `lost=0 duplicates=0 mismatches=0` (or the real numbers), writes audit.json, and
exits non-zero on anything but zeros.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import asyncpg

from .ledger import read_jsonl, read_ledger


def fetch_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except (OSError, ValueError, urllib.error.HTTPError):
        return None


async def live_ballots(conn: asyncpg.Connection, election_id: str) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM ballots WHERE election_id = $1 AND NOT superseded AND NOT annulled", election_id)


async def drain(conn: asyncpg.Connection, results_url: str, elections: list[str], timeout: float) -> list[str]:
    """Wait until the tally has applied every outbox row and the published turnout caught up."""
    deadline = time.monotonic() + timeout
    waiting: list[str] = []
    while time.monotonic() < deadline:
        waiting = []
        for e in elections:
            pending = await conn.fetchval("SELECT count(*) FROM tally_outbox WHERE election_id = $1", e)
            snapshot = fetch_json(f"{results_url}/v1/elections/{e}/results") or {}
            voted = (snapshot.get("turnout") or {}).get("voted")
            live = await live_ballots(conn, e)
            if pending or voted != live:
                waiting.append(f"{e}: {pending} outbox rows pending, published voted={voted}, live ballots={live}")
        if not waiting:
            return []
        await asyncio.sleep(0.5)
    return waiting


def judge_ledger(entries, found: dict[str, tuple[str, bool, bool]]) -> tuple[list[str], list[str], dict]:
    """(lost, duplicates, figures) from ledger entries and {receipt_id: (election, superseded, annulled)}."""
    receipts: dict[tuple[str, str], list] = defaultdict(list)
    attempted: dict[tuple[str, str], int] = defaultdict(int)  # highest ballot seq a voter sent
    keys_sent, keys_acked, gave_up = set(), set(), 0
    for e in entries:
        if e.kind == "receipt":
            receipts[(e.election_id, e.voter_id)].append(e)
            keys_acked.add(e.key)
        else:
            attempted[(e.election_id, e.voter_id)] = max(attempted[(e.election_id, e.voter_id)], e.seq)
            keys_sent.add(e.key)
            gave_up += e.kind == "unacked"
    lost, duplicates = [], []
    for voter, mine in receipts.items():
        mine.sort(key=lambda e: (e.seq, e.at))
        live = []
        for e in mine:
            state = found.get(e.receipt_id)
            if state is None or state[0] != e.election_id:
                lost.append(f"{voter}: receipt {e.receipt_id} not in the ballots table")
            elif state[2]:
                lost.append(f"{voter}: receipt {e.receipt_id} annulled")
            elif not state[1]:
                live.append(e)
        last = mine[-1]
        if len({e.receipt_id for e in live}) > 1:
            duplicates.append(f"{voter}: {len(live)} live ballots")
        state = found.get(last.receipt_id)
        if state and state[1] and attempted.get(voter, 0) <= last.seq:  # no later ballot was even sent
            lost.append(f"{voter}: the last acknowledged ballot {last.receipt_id} is superseded")
    figures = {"receipts": sum(len(v) for v in receipts.values()), "voters": len(receipts),
               "ballots_unanswered": len(keys_sent - keys_acked), "ballots_given_up": gave_up}
    return lost, duplicates, figures


async def recount_sql(conn: asyncpg.Connection, election_id: str) -> tuple[dict, dict, dict]:
    """(ballots/abstentions per contest, votes per (contest, option), voted per precinct) from live ballots."""
    live = "ballots b CROSS JOIN LATERAL jsonb_each(b.selections) s WHERE b.election_id = $1 AND NOT b.superseded AND NOT b.annulled"
    contests = {r[0]: (r[1], r[2]) for r in await conn.fetch(
        f"SELECT s.key, count(*), count(*) FILTER (WHERE jsonb_array_length(s.value) = 0) FROM {live} GROUP BY 1",
        election_id)}
    votes = {(r[0], r[1]): r[2] for r in await conn.fetch(
        "SELECT s.key, o.value, count(*) FROM ballots b CROSS JOIN LATERAL jsonb_each(b.selections) s"
        " CROSS JOIN LATERAL jsonb_array_elements_text(s.value) o"
        " WHERE b.election_id = $1 AND NOT b.superseded AND NOT b.annulled GROUP BY 1, 2", election_id)}
    precincts = {r[0]: r[1] for r in await conn.fetch(
        "SELECT precinct_id, count(*) FROM ballots WHERE election_id = $1 AND NOT superseded AND NOT annulled"
        " GROUP BY 1", election_id)}
    return contests, votes, precincts


def compare_snapshot(snapshot: dict, contests: dict, votes: dict, where: str) -> list[str]:
    out = []
    for c in snapshot.get("contests", []):
        cid = c["contest_id"]
        ballots, abstentions = contests.get(cid, (0, 0))
        if (c["ballots"], c["abstentions"]) != (ballots, abstentions):
            out.append(f"{where} {cid}: published ballots/abstentions {c['ballots']}/{c['abstentions']}"
                       f" != recount {ballots}/{abstentions}")
        for o in c["options"]:
            if o["votes"] != votes.get((cid, o["option_id"]), 0):
                out.append(f"{where} {cid}/{o['option_id']}: published {o['votes']} != recount "
                           f"{votes.get((cid, o['option_id']), 0)}")
    return out


async def audit_election(conn, pool, results_url: str, election_id: str) -> tuple[list[str], list[str], dict]:
    mismatches: list[str] = []
    duplicates: list[str] = []
    live = await live_ballots(conn, election_id)
    rows = await conn.fetchval("SELECT count(*) FROM participation WHERE election_id = $1", election_id)
    snapshot = fetch_json(f"{results_url}/v1/elections/{election_id}/results") or {}
    voted = (snapshot.get("turnout") or {}).get("voted")
    if live > rows:
        duplicates.append(f"{election_id}: {live} live ballots for {rows} voters")
    if not live == rows == voted:
        mismatches.append(f"{election_id}: live ballots {live}, participation rows {rows}, published voted {voted}")
    contests, votes, precincts = await recount_sql(conn, election_id)
    mismatches += compare_snapshot(snapshot, contests, votes, election_id)
    for precinct_id, count in sorted(precincts.items()):
        p = fetch_json(f"{results_url}/v1/elections/{election_id}/results/precincts/{precinct_id}") or {}
        if (p.get("turnout") or {}).get("voted") != count:
            mismatches.append(f"{election_id}/{precinct_id}: published voted {(p.get('turnout') or {}).get('voted')}"
                              f" != live ballots {count}")
    try:
        from services.tally.recount import recount  # the results service's own check
    except ImportError:
        recount = None
    if recount is not None:
        result = await recount(pool, election_id)
        mismatches += [f"{election_id} recount: {d}" for d in result.differences]
    return mismatches, duplicates, {"live_ballots": live, "participation_rows": rows, "published_voted": voted,
                                    "published_version": snapshot.get("version")}


async def audit(run_dir: Path, database_url: str, results_url: str, elections: list[str], drain_timeout: float) -> dict:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            not_drained = await drain(conn, results_url, elections, drain_timeout)
            entries = list(read_ledger(run_dir))
            ids = [e.receipt_id for e in entries if e.receipt_id]
            found = {r[0]: (r[1], r[2], r[3]) for r in await conn.fetch(
                "SELECT receipt_id, election_id, superseded, annulled FROM ballots WHERE receipt_id = ANY($1::text[])",
                ids)}
            lost, duplicates, figures = judge_ledger(entries, found)
            mismatches = list(not_drained)
            per_election = {}
            for e in elections:
                m, d, f = await audit_election(conn, pool, results_url, e)
                mismatches += m
                duplicates += d
                per_election[e] = f
    finally:
        await pool.close()
    violations = [f"watcher saw {v['where']}: {'; '.join(v['problems'])}" for v in read_jsonl(run_dir, "violations-*.jsonl")]
    mismatches += violations
    return {"lost": len(lost), "duplicates": len(duplicates), "mismatches": len(mismatches),
            "ledger": figures, "elections": per_election, "snapshot_violations": len(violations),
            "details": {"lost": lost[:50], "duplicates": duplicates[:50], "mismatches": mismatches[:50]}}


def line(result: dict) -> str:
    return f"lost={result['lost']} duplicates={result['duplicates']} mismatches={result['mismatches']}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtests.audit", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, required=True, help="folder with ledger-*.jsonl and violations-*.jsonl")
    p.add_argument("--database-url", required=True)
    p.add_argument("--results-url", required=True)
    p.add_argument("--drain-timeout", type=float, default=60.0)
    p.add_argument("elections", nargs="+")
    args = p.parse_args(argv)
    result = asyncio.run(audit(args.run_dir, args.database_url, args.results_url, args.elections, args.drain_timeout))
    (args.run_dir / "audit.json").write_text(json.dumps(result, indent=2))
    for kind in ("lost", "duplicates", "mismatches"):
        for detail in result["details"][kind][:10]:
            print(f"{kind}: {detail}")
    print(f"ledger: {result['ledger']['receipts']} receipts from {result['ledger']['voters']} voters; "
          + "; ".join(f"{e}: {f['live_ballots']} live ballots" for e, f in result["elections"].items()))
    print(line(result))
    return 0 if result["lost"] == result["duplicates"] == result["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
