"""The two kinds of people on election day.

Voter: logs in (one-time code read from the development outbox, or an Ed25519
signature), reads the election, casts a ballot (retrying with the same key), checks
`ballots/mine`, may vote again where re-voting is allowed, then watches results every
voter-think seconds; after a few polls the next voter takes this user's place, so
voters keep arriving steadily for the whole run.

Watcher: polls the results (a share of polls: one precinct's) with If-None-Match, or
holds the SSE stream.
"""
from __future__ import annotations

import random

from locust import FastHttpUser, task
from locust.exception import StopUser

from . import counters, flows
from .identities import client_address
from .state import shared


class Voter(FastHttpUser):
    abstract = True  # made concrete by the locustfile
    network_timeout = 10.0  # a ballot attempt that hangs is retried with its key
    connection_timeout = 10.0
    concurrency = 1

    def on_start(self) -> None:
        self.reader = flows.ResultsReader()

    def wait_time(self) -> float:
        s = shared().scenario
        return random.uniform(s.voter_think_min, s.voter_think_max)

    @task
    def vote_then_watch(self) -> None:
        state = shared()
        who = state.next_voter()
        if who is None:
            counters.count("voters: roll slice used up")
            raise StopUser()
        election_id, voter_id, signs = who
        headers = {"X-Forwarded-For": client_address(state.worker_index)}
        token = flows.login(self.client, election_id, voter_id, signs, headers)
        definition = flows.election(self.client, election_id) if token else None
        if not definition:
            return
        precinct_id = flows.token_precinct(token)
        receipt = flows.cast_ballot(
            self.client, election_id, voter_id, token, flows.random_selections(definition, precinct_id), 1
        )
        if not receipt:
            return
        flows.check_mine(self.client, election_id, token, receipt, 1)
        revoting = bool(definition.get("revoting"))
        if revoting and random.random() < state.scenario.revote_share:
            again = flows.cast_ballot(self.client, election_id, voter_id, token, flows.random_selections(definition, precinct_id), 2)
            if again:
                counters.count("re-votes acknowledged")
                flows.check_mine(self.client, election_id, token, again, 2)
        for _ in range(state.scenario.voter_watch_polls):
            self.wait()
            self.reader.poll(self.client, election_id)


class Watcher(FastHttpUser):
    abstract = True
    network_timeout = 30.0  # longer than the stream's 15 s heartbeat
    connection_timeout = 10.0
    concurrency = 1

    def on_start(self) -> None:
        s = shared().scenario
        self.reader = flows.ResultsReader()
        self.streams = random.random() < s.stream_share
        self.elections = [e for e in (s.election_id, s.revote_election_id) if e]
        self.election_id = random.choice(self.elections)
        if flows.election(self.client, self.election_id) is None:
            return

    def wait_time(self) -> float:
        s = shared().scenario
        return 0.0 if self.streams else random.uniform(s.watcher_think_min, s.watcher_think_max)

    @task
    def watch(self) -> None:
        s = shared().scenario
        if self.streams:
            flows.hold_stream(self.client, self.reader, self.election_id, s.stream_hold)
            return
        definition = shared().definitions.get(self.election_id)
        if definition and random.random() < s.precinct_share:
            online = [p["precinct_id"] for p in definition.get("precincts", []) if p.get("channel", "online") == "online"]
            if online:
                return self.reader.poll(self.client, self.election_id, random.choice(online))
        self.reader.poll(self.client, self.election_id)
