"""The run's report: summary.json (everything) and report.md (what a person reads first):
users held, requests/s and p50/p95/p99 per endpoint, answers by status and code, CPU and
peak RSS per side and per process, the SLO verdict and the audit line."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from . import spread


def read_stats_csv(run_dir: Path) -> list[dict]:
    path = run_dir / "locust_stats.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_spread(run_dir: Path, meta: dict, locust: dict, processes: list[dict]) -> dict:
    """Users per Locust worker (their own reports) joined with each worker's /proc figures,
    the users actually held, and the reasons not to trust the load generator (if any)."""
    path = run_dir / "locust-workers.json"
    recorded = json.loads(path.read_text()) if path.exists() else {"samples": [], "missing": []}
    window = spread.hold_window(recorded.get("spawned_at"), recorded.get("stopped_at"))
    rows = spread.worker_rows(recorded["samples"], [p for p in processes if p["group"] == "locust"], window)
    held = spread.users_held(recorded["samples"], window)
    problems = spread.problems(rows, meta["users"], meta["locust_workers"],
                               spread.emfile_errors(locust.get("errors", [])), held, len(recorded.get("missing", [])))
    started = min((s["t"] for s in recorded["samples"]), default=0.0)
    return {"users_held": held, "window": window, "started_at": started,
            "fair_share": spread.fair_share(meta["users"], meta["locust_workers"]), "max_share": spread.MAX_SHARE,
            "missing": recorded.get("missing", []), "rows": [r.__dict__ for r in rows], "problems": problems}


def build(run_dir: Path, meta: dict, locust: dict, audit: dict, monitor) -> dict:
    seconds = meta.get("load_seconds", 0)
    workers = load_spread(run_dir, meta, locust, monitor.processes())
    meta = {**meta, "users_held": workers["users_held"]}
    busy = [b for _, b in monitor.machine_busy]
    by_group = monitor.by_group(seconds)
    requests = locust.get("requests", 0) or 0
    per_request = {}
    if requests:
        for group, g in by_group.items():
            net = max(0.0, g["cpu_seconds"] - g["idle_cores"] * seconds)
            per_request[group] = round(net / requests * 1e6)  # µs of CPU per request (all endpoints)
    return {"meta": meta, "locust": locust, "audit": audit, "workers": workers,
            "cpu_by_group": by_group, "processes": monitor.processes(),
            "machine_busy_cores_peak": max(busy, default=0.0),
            "machine_busy_cores_mean": sum(busy) / len(busy) if busy else 0.0,
            "machine_busy_cores_p90": sorted(busy)[int(0.9 * (len(busy) - 1))] if busy else 0.0,
            "cpu_us_per_request": per_request,
            "kernel_tcp_delta": monitor.kernel_delta, "machine_cpu_seconds": monitor.machine_times, "sockstat_peak": monitor.sockstat_peak,
            "stats_csv": read_stats_csv(run_dir)}


def _ms(value) -> str:
    try:
        return f"{float(value):.0f}"
    except (TypeError, ValueError):
        return "-"


def markdown(summary: dict) -> str:
    meta, locust, audit = summary["meta"], summary["locust"], summary["audit"]
    out = [f"# Load run {meta['run_id']} ({meta['profile']})", ""]
    held = meta["users_held"]
    out.append(f"- users: target {meta['users']:,}; running on the workers (their own reports): during the "
               f"{meta['hold_seconds']} s hold min {held['min']:,} / max {held['max']:,} ({held['samples']} reports), "
               f"peak {held['peak']:,}; ramp {meta['ramp_seconds']} s at {meta['spawn_rate']}/s; "
               f"roll {meta['voters']:,} voters")
    out.append(f"- processes: services {meta['service_workers']}, Locust master + {meta['locust_workers']} workers, "
               f"{meta['sources']} loopback source addresses; machine {meta['cores']} cores")
    out.append(f"- requests {locust.get('requests', 0):,}, failures {locust.get('failures', 0):,}, "
               f"{locust.get('rps', 0):.0f} req/s overall")
    out.append(f"- SLOs: {'met' if not locust.get('breaches') else 'MISSED'}; Locust exit code {meta['locust_exit']}")
    for b in locust.get("breaches", []):
        out.append(f"  - {b}")
    out.append(f"- audit: `{meta['audit_line']}` (receipts in the ledger: {audit.get('ledger', {}).get('receipts', 0):,})")
    out += workers_markdown(summary.get("workers"))
    out += ["", "| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in summary["stats_csv"]:
        out.append(f"| {row['Type']} {row['Name']} | {int(row['Request Count']):,} | {int(row['Failure Count']):,} | "
                   f"{float(row['Requests/s']):.1f} | {_ms(row.get('50%'))} | {_ms(row.get('95%'))} | {_ms(row.get('99%'))} |")
    answers = {k[len("answer "):]: v for k, v in locust.get("counters", {}).items() if k.startswith("answer ")}
    out += ["", "Answers other than success, by endpoint, status and problem code:", ""]
    out += [f"- {k}: {v:,}" for k, v in answers.items()] or ["- none"]
    others = {k: v for k, v in locust.get("counters", {}).items() if not k.startswith("answer ")}
    out += ["", "Scenario counters: " + ", ".join(f"{k} {v:,}" for k, v in others.items())]
    out += ["", f"CPU over the {meta['load_seconds']:.0f} s of load (cores = CPU seconds / wall seconds); "
            f"machine busy cores: mean {summary.get('machine_busy_cores_mean', 0):.2f}, "
            f"p90 {summary.get('machine_busy_cores_p90', 0):.2f}, peak {summary['machine_busy_cores_peak']:.2f} "
            "(whole machine, other users included). Idle cores: each process's CPU in 5 s before the load; "
            "µs/request: (CPU s − idle × wall s) / all Locust requests:", "",
            "| side | processes | CPU s | cores | idle cores | µs CPU / request | peak RSS MB (sum) | peak fds (max) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    per_request = summary.get("cpu_us_per_request", {})
    for group, g in sorted(summary["cpu_by_group"].items()):
        out.append(f"| {group} | {g['processes']} | {g['cpu_seconds']:.0f} | {g['cores']:.2f} | "
                   f"{g.get('idle_cores', 0):.3f} | {per_request.get(group, '-')} | {g['peak_rss'] / 2**20:.0f} | "
                   f"{g.get('peak_fds', 0):,} |")
    machine = summary.get("machine_cpu_seconds", {})
    if machine:
        busy = sum(v for k, v in machine.items() if k not in ("idle", "iowait", "steal"))
        ours = sum(g["cpu_seconds"] for g in summary["cpu_by_group"].values())
        out += ["", f"Machine busy {busy:,.0f} CPU s ({busy / max(1, meta['load_seconds']):.2f} cores) of which this run's "
                f"processes {ours:,.0f} CPU s; unattributed {busy - ours:,.0f} CPU s "
                f"({(busy - ours) / max(1, meta['load_seconds']):.2f} cores): other processes on the host (other "
                "engineers' tests), kernel threads, softirq, processes that ended between samples."]
        out += ["", "Whole machine, CPU seconds by kind over the load (/proc/stat; softirq is loopback TCP work "
                "not charged to any process, steal is time the hypervisor took): "
                + ", ".join(f"{k} {v:,.1f}" for k, v in machine.items())]
    kernel = summary.get("kernel_tcp_delta", {})
    if kernel:
        out += ["", "Kernel TCP counters over the load (machine-wide deltas, /proc/net/netstat and /proc/net/snmp): "
                + ", ".join(f"{k.split(':')[1]} {v:,}" for k, v in sorted(kernel.items()))]
    peaks = summary.get("sockstat_peak", {})
    if peaks:
        out += ["", "Peaks of /proc/net/sockstat: " + ", ".join(f"{k} {v:,}" for k, v in sorted(peaks.items()))]
    out += ["", "| process | side | CPU s | peak RSS MB | peak fds |", "|---|---|---:|---:|---:|"]
    for p in summary["processes"]:
        if p["cpu_seconds"] >= 0.5 or p["peak_fds"] > 100:
            out.append(f"| {p['pid']} {p['name']} | {p['group']} | {p['cpu_seconds']} | {p['peak_rss_mb']} | {p['peak_fds']} |")
    return "\n".join(out) + "\n"


def workers_markdown(workers: dict | None) -> list[str]:
    if not workers:
        return []
    problems = workers["problems"]
    verdict = "passed" if not problems else "FAILED"
    out = ["", f"Load generator spread: **{verdict}** (fair share {workers['fair_share']:,} users per worker; "
           f"fails above {workers['max_share']}x, at a worker's open-files limit, when a worker was "
           "taken for missing or fewer users than the target ran during the hold)"]
    out += [f"- {p}" for p in problems]
    for m in workers.get("missing", []):
        out.append(f"- the master marked worker {m['index']} missing (no heartbeat) "
                   f"{m['t'] - workers.get('started_at', 0):.0f} s after the workers' first report")
    out += ["", "| worker | pid | users peak | users in hold (min-max) | x fair share | users by class (at peak) "
            "| CPU s | peak RSS MB | peak fds | fd limit |", "|---:|---:|---:|---|---:|---|---:|---:|---:|---:|"]
    for r in workers["rows"]:
        classes = ", ".join(f"{k} {v:,}" for k, v in sorted(r["classes"].items()))
        out.append(f"| {r['index']} | {r['pid']} | {r['peak_users']:,} | {r['hold_min']:,}-{r['hold_max']:,} | "
                   f"{r['peak_users'] / max(1, workers['fair_share']):.2f} | {classes} | {_num(r['cpu_seconds'])} | "
                   f"{_num(r['peak_rss_mb'])} | {_num(r['peak_fds'])} | {_num(r['fd_limit'])} |")
    return out


def _num(value) -> str:
    return "-" if value is None else f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


def write(run_dir: Path, summary: dict) -> None:
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (run_dir / "report.md").write_text(markdown(summary))
