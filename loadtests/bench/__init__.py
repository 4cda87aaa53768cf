"""The pieces of the benchmark scripts (loadtests/bench_*.py), one idea a module.

Shared: `stack` (a fresh database on an embedded or given Postgres/Redis), `procfs`
(process and machine CPU from /proc), `cpu` (CPU used per group of processes over a
measured interval), `wrk` (running wrk), `net` (ports, waiting for HTTP), `output`
(the results JSON with machine info).

bench_vote.py: `vote_ballot` (the election and the request), `vote_tokens` (access
tokens and the fake JWKS), `vote_service`, `vote_lua` (the wrk driver), `vote_openloop`,
`vote_closedloop` (the aiohttp fallback), `vote_http` (an HTTP phase), `vote_direct`
(the direct-to-Postgres phases), `vote_report`, `vote_run` (the run, phase by phase).

bench_results.py: `results_election`, `results_bare` (the bare app), `results_sse`
(subscribers), `results_phases`, `results_run`.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
