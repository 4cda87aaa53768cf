"""`ballotline audit verify ELECTION_ID`: recompute an election's audit chain from Postgres
(exit 0 intact, 1 naming the first broken seq, 2 unknown election)."""
from __future__ import annotations

import argparse

from services.common import audit_chain, audit_log

from .errors import OperatorError, database, election_not_found, operator_command


def register(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="the public audit log")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check an election's audit log hash chain")
    verify.add_argument("election_id")
    verify.set_defaults(handler=run_verify)


@operator_command
async def run_verify(args: argparse.Namespace) -> int:
    async with database() as conn:
        if not await conn.fetchval("SELECT 1 FROM elections WHERE election_id = $1", args.election_id):
            raise election_not_found(args.election_id)
        entries = await audit_log.read(conn, args.election_id)
    broken = audit_chain.first_broken(entries)
    if broken is not None:
        raise OperatorError(
            f"error: the audit log of {args.election_id} is broken at seq {broken}"
            f" ({len(entries)} entries read): that entry, or the one before it, was altered or removed"
        )
    print(f"audit log of {args.election_id} intact: {len(entries)} entries, head {audit_chain.head(entries)}")
    return 0
