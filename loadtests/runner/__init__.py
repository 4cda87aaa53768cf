"""`python -m loadtests.run` (make loadtest / make loadtest-smoke): seed, start, load,
audit, report. One idea per module: stack (databases and services), seed (elections and
rolls through the operator CLI), locust (master and workers), monitor (CPU, RSS, fds per
process), report (Markdown and JSON), profiles (smoke, full)."""
