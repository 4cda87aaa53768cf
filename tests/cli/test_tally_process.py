"""`ballotline tally run` as its own process: probes and metrics on its internal listener
(it has no public port), and a clear exit 2 without its key."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.processes import free_port, get


def test_the_tally_process_answers_its_probes_and_metrics_on_the_internal_listener(service_env):
    port = free_port()
    env = {**os.environ, **service_env, "METRICS_PORT": str(port), "TALLY_INTERVAL_MS": "20"}
    process = subprocess.Popen([sys.executable, "-m", "services.cli.main", "tally", "run"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while get(f"http://127.0.0.1:{port}/readyz")[0] != 200:
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the tally never became ready"
            time.sleep(0.1)
        assert get(f"http://127.0.0.1:{port}/healthz") == (200, '{"status":"ok"}')
        status, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "ballotline_tally_errors_total" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    assert get(f"http://127.0.0.1:{port}/healthz")[0] == 0  # closed with the process


def test_without_its_private_key_the_tally_exits_2_and_says_why(service_env):
    env = {k: v for k, v in {**os.environ, **service_env}.items() if not k.startswith("TALLY_PRIVATE_KEY")}
    done = subprocess.run([sys.executable, "-m", "services.cli.main", "tally", "run"], env={**env, "METRICS_PORT": "0"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = [json.loads(x) for x in done.stderr.splitlines() if "configuration error" in x]
    assert "TALLY_PRIVATE_KEY_FILE" in line["msg"]
