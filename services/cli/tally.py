"""`ballotline tally run|verify`: the tally worker as its own process, and the on-demand
recount.

    ballotline tally run [--once]        apply the outbox and publish until SIGTERM/SIGINT
    ballotline tally verify ELECTION_ID  recount from the ballots table and check the
                                         published hash chain; exit 0 when both agree,
                                         1 on a mismatch, 2 for an unknown election

Configuration as the results service (DATABASE_URL, REDIS_URL, TALLY_*; see
services/tally/settings.py); without REDIS_URL the embedded Redis in the project's
data folder is used. Both connect as TALLY_DATABASE_ROLE (default ballotline_tally).
`run` serves /metrics, /healthz and /readyz on its internal listener (METRICS_HOST,
default 127.0.0.1; METRICS_PORT, default 9004; 0 turns it off).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal

from services.common.settings import ConfigError, Env

log = logging.getLogger("services.cli.tally")


def register(commands: argparse._SubParsersAction) -> None:
    tally = commands.add_parser("tally", help="the exactly-once tally worker")
    sub = tally.add_subparsers(dest="tally_command", required=True)
    run = sub.add_parser("run", help="apply outbox batches and publish snapshots until stopped")
    run.add_argument("--once", action="store_true", help="apply everything pending, publish, and exit")
    run.set_defaults(handler=run_worker)
    verify = sub.add_parser("verify", help="recount an election and compare with the incremental tally")
    verify.add_argument("election_id")
    verify.set_defaults(handler=run_verify)


def _redis_url() -> str:
    configured = os.environ.get("REDIS_URL")
    if configured:
        return configured
    from services.common.embedded import EmbeddedRedis, data_dir

    return EmbeddedRedis(data_dir() / "redis").start().url()


async def run_worker(args: argparse.Namespace) -> int:
    import redis.asyncio as aioredis

    from services.common.catalog import ElectionCatalog
    from services.common.logs import configure_logging
    from services.tally.service import create_tally_pool, running_tally
    from services.tally.settings import TallySettings

    from .context import database_url

    env = Env()
    configure_logging("tally", env.str("LOG_LEVEL", "INFO").upper())
    try:
        settings = TallySettings.from_env(env)
        settings.require_keys()
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return 2
    pool = await create_tally_pool(database_url(), settings)
    redis = aioredis.from_url(_redis_url(), socket_timeout=5, socket_connect_timeout=5)
    catalog = ElectionCatalog(pool)
    await catalog.start()
    try:
        if args.once:
            from services.tally.worker import TallyWorker

            await TallyWorker(pool, redis, catalog, settings).drain()
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with running_tally(pool, redis, catalog, settings) as worker:
            try:
                listener = _listener(env, worker)
            except ConfigError as exc:
                log.error("configuration error: %s", exc)
                return 2
            try:
                await stop.wait()
            finally:
                if listener is not None:
                    listener.stop()
        return 0
    finally:
        await catalog.stop()
        with contextlib.suppress(Exception):
            await redis.aclose()
        await pool.close()


DEFAULT_METRICS_PORT = 9004  # beside auth 9001, vote 9002, results 9003


def _listener(env: Env, worker):
    from services.common.metrics_listener import MetricsListener

    port = env.int("METRICS_PORT", DEFAULT_METRICS_PORT)
    if port == 0:
        return None
    try:
        return MetricsListener(env.str("METRICS_HOST", "127.0.0.1"), port, health=worker.health).start()
    except OSError as exc:
        raise ConfigError(f"METRICS_PORT: cannot listen on {port}: {exc.strerror}") from None


async def run_verify(args: argparse.Namespace) -> int:
    from services.common.storage import create_pool
    from services.tally import snapshots_db
    from services.tally.chain import chain_problems
    from services.tally.recount import recount_and_alert
    from services.tally.settings import TallySettings

    from .context import database_url

    role = TallySettings.from_env(Env()).database_role
    pool = await create_pool(database_url(), min_size=1, max_size=2, name="ballotline-tally-verify", role=role)
    try:
        if not await pool.fetchval("SELECT 1 FROM elections WHERE election_id = $1", args.election_id):
            print(f"unknown election {args.election_id!r}")
            return 2
        result = await recount_and_alert(pool, args.election_id)
        async with pool.acquire() as conn:
            chain = chain_problems(tuple(r) for r in await snapshots_db.chain(conn, args.election_id))
    finally:
        await pool.close()
    print(
        f"{args.election_id}: {result.live_ballots} live ballot(s), {result.pending_rows} outbox row(s) pending"
    )
    for line in result.differences:
        print("MISMATCH " + line)
    for line in chain:
        print("CHAIN " + line)
    if result.ok and not chain:
        print("OK: the incremental tally equals the recount; the published chain is intact")
        return 0
    return 1
