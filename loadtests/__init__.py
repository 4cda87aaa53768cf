"""Load tests and benchmarks. `make loadtest` / `make loadtest-smoke` run the election-day
scenario (README.md in this folder); the pure pieces (invariants, ledger, audit, SLOs)
import neither Locust nor gevent, so the test suite can use them directly."""
