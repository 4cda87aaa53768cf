"""The scenario's knobs, as Locust command-line options (each also read from a LOCUST_*
environment variable). The master sends them to its workers with every spawn message.
Defaults model election day: most concurrent users watch results, voters arrive steadily.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (option, type, default, help)
OPTIONS: list[tuple[str, type, Any, str]] = [
    ("auth-url", str, "http://127.0.0.1:8001", "auth service base URL"),
    ("vote-url", str, "http://127.0.0.1:8002", "vote service base URL"),
    ("results-url", str, "http://127.0.0.1:8003", "results service base URL"),
    ("election-id", str, "load-2026", "the election most voters vote in (no re-voting)"),
    ("revote-election-id", str, "", "an election with re-voting ('' = none)"),
    ("voter-prefix", str, "v", "roll voter ids are PREFIX + zero-padded number"),
    ("voter-digits", int, 7, "digits of the voter number"),
    ("voters", int, 1_000_000, "voters on the main election's roll (numbers 1..N)"),
    ("revote-voters", int, 100_000, "voters on the re-voting election's roll"),
    ("load-workers", int, 1, "Locust worker processes (each takes its own slice of the roll)"),
    ("voter-weight", int, 1, "share of Voter users (Locust weight)"),
    ("watcher-weight", int, 9, "share of Watcher users (Locust weight)"),
    ("signature-share", float, 0.1, "voters who log in with an Ed25519 key (<= 0.1: every 10th voter has one)"),
    ("revote-election-share", float, 0.2, "voters whose election allows re-voting"),
    ("revote-share", float, 0.3, "of those, voters who vote a second time"),
    ("voter-watch-polls", int, 3, "result polls a voter makes after voting before the next voter takes its place"),
    ("voter-think-min", float, 15.0, "seconds between a voter's result polls (min)"),
    ("voter-think-max", float, 60.0, "seconds between a voter's result polls (max)"),
    ("watcher-think-min", float, 5.0, "seconds between a watcher's polls (min)"),
    ("watcher-think-max", float, 15.0, "seconds between a watcher's polls (max)"),
    ("precinct-share", float, 0.3, "watcher polls that read one precinct instead of the total"),
    ("stream-share", float, 0.02, "watchers that hold the SSE stream instead of polling"),
    ("stream-hold", float, 120.0, "seconds a watcher holds one stream before reconnecting"),
    ("ballot-attempts", int, 8, "attempts per ballot (same Idempotency-Key) before giving up"),
    ("sources", int, 8, "loopback source addresses 127.0.0.1..N to spread connections over"),
    ("stop-after", float, 0.0, "seconds after the start to stop users, collect every worker's last stats, quit (0: never)"),
    ("run-dir", str, "loadtests/results/adhoc", "where ledgers, violations and the summary go"),
    ("slo-fail-ratio", float, 0.001, "SLO: failed requests / all requests below this"),
    ("slo-p95-ms", float, 500.0, "SLO: p95 per endpoint below this (ms)"),
    ("slo-p99-ms", float, 1000.0, "SLO: p99 per endpoint below this (ms)"),
]


def add_arguments(parser) -> None:
    group = parser.add_argument_group("Ballotline scenario")
    for name, kind, default, text in OPTIONS:
        env = "LOCUST_" + name.upper().replace("-", "_")
        group.add_argument(f"--{name}", type=kind, default=default, env_var=env, help=f"{text} [{default}]")


@dataclass(frozen=True)
class Scenario:
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @classmethod
    def from_parsed(cls, parsed) -> "Scenario":
        source = vars(parsed) if parsed is not None and not isinstance(parsed, dict) else (parsed or {})
        values = {}
        for name, kind, default, _ in OPTIONS:
            key = name.replace("-", "_")
            values[key] = kind(source.get(key, default)) if source.get(key) is not None else default
        return cls(values)
