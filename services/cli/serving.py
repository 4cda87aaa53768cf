"""`ballotline serve SERVICE [--workers N]`: run auth, vote or results."""
from __future__ import annotations

import argparse
import os

from services.common.serve import SERVICES, run_worker, serve


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("serve", help="run a service (auth, vote, results)")
    p.add_argument("service", choices=SERVICES)
    p.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", "1")),
        help="processes sharing the port with SO_REUSEPORT (default: $WORKERS or 1)",
    )
    p.set_defaults(sync_handler=lambda a: serve(a.service, a.workers))
    w = commands.add_parser("serve-worker")  # internal: one worker of a supervised service
    w.add_argument("service", choices=SERVICES)
    w.set_defaults(sync_handler=lambda a: run_worker(a.service, supervised=True) or 0)
