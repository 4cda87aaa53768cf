"""Run profiles. `smoke` proves the scenario and the audit in about a minute (it runs in
`make test`); `full` is issue 5's election day: 50,000 users, a 1,000,000-voter roll.

Sizing on one host (see loadtests/README.md for the measurements behind it): services
get most processes because watchers' connections land on results (each process stays
well under the 20,000 open-files limit), Locust gets enough workers that none holds
more than ~12,500 users (its connections, like the server's, are file descriptors)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Profile:
    name: str
    users: int
    spawn_rate: float
    hold_seconds: int
    voters: int
    revote_voters: int
    locust_workers: int
    service_workers: dict[str, int] = field(default_factory=dict)
    scenario: dict[str, object] = field(default_factory=dict)

    @property
    def ramp_seconds(self) -> int:
        return int(self.users / self.spawn_rate + 0.999)


SMOKE = Profile(
    name="smoke", users=300, spawn_rate=50, hold_seconds=35, voters=20_000, revote_voters=5_000,
    locust_workers=2, service_workers={"auth": 1, "vote": 1, "results": 1},
    # Shorter think times than election day, so a minute exercises every step many times.
    scenario={"voter_weight": 1, "watcher_weight": 2, "voter_think_min": 1, "voter_think_max": 3,
              "voter_watch_polls": 2, "watcher_think_min": 1, "watcher_think_max": 3,
              "stream_share": 0.05, "stream_hold": 20, "revote_share": 0.5, "sources": 4},
)


def full() -> Profile:
    cores = os.cpu_count() or 2
    return Profile(
        name="full", users=50_000, spawn_rate=100, hold_seconds=600, voters=1_000_000, revote_voters=100_000,
        locust_workers=max(4, cores * 2),
        service_workers={"auth": max(1, cores // 2), "vote": max(1, cores // 2), "results": max(4, cores * 2)},
        # Election day (loadtests/README.md, "Defaults"): 9 watchers per voter; 10% of the
        # watchers (live dashboards, observers) hold the SSE stream, reconnecting every 5 min;
        # the rest revalidate with If-None-Match every 5-15 s (browser tabs, widgets); voters keep
        # arriving (each user is replaced by a new voter after 3 result polls).
        scenario={"sources": 8, "stream_share": 0.1, "stream_hold": 300},
    )


def named(name: str) -> Profile:
    if name == "smoke":
        return SMOKE
    if name == "full":
        return full()
    raise SystemExit(f"unknown profile {name!r}: smoke or full")


def customised(profile: Profile, **changes) -> Profile:
    return replace(profile, **{k: v for k, v in changes.items() if v is not None})
