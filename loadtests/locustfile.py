"""Election day for Ballotline (issue 5): Voters and Watchers against the real services.

    locust -f loadtests/locustfile.py --headless -u 300 -r 50 -t 60s
    python -m loadtests.run --profile smoke      # what `make loadtest-smoke` runs

The scenario lives in loadtests/scenario/ (options, users, flows, SLO hook); this file
only wires it up so that Locust finds two concrete user classes.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from loadtests.scenario import hooks, users  # noqa: E402


class Voter(users.Voter):
    pass


class Watcher(users.Watcher):
    pass


hooks.register(Voter, Watcher)
