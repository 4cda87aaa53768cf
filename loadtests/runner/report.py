"""The run's report: summary.json (everything) and report.md (what a person reads first):
users held, requests/s and p50/p95/p99 per endpoint, answers by status and code, CPU and
peak RSS per side and per process, the SLO verdict and the audit line."""
from __future__ import annotations

import csv
import json
from pathlib import Path


def read_stats_csv(run_dir: Path) -> list[dict]:
    path = run_dir / "locust_stats.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def users_held(run_dir: Path, ramp_seconds: float, hold_seconds: float) -> dict:
    """Peak users, and the fewest users seen during the hold (after the ramp, before the stop)."""
    path = run_dir / "locust_stats_history.csv"
    if not path.exists():
        return {"peak": 0, "held": 0}
    with open(path, newline="") as f:
        rows = [(int(r["Timestamp"]), int(r["User Count"])) for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    if not rows:
        return {"peak": 0, "held": 0}
    start = rows[0][0]
    hold = [u for t, u in rows if start + ramp_seconds + 5 <= t <= start + ramp_seconds + hold_seconds - 2]
    return {"peak": max(u for _, u in rows), "held": min(hold) if hold else 0}


def build(run_dir: Path, meta: dict, locust: dict, audit: dict, monitor) -> dict:
    seconds = meta.get("load_seconds", 0)
    meta = {**meta, "users_held": users_held(run_dir, meta["ramp_seconds"], meta["hold_seconds"])}
    busy = [b for _, b in monitor.machine_busy]
    by_group = monitor.by_group(seconds)
    requests = locust.get("requests", 0) or 0
    per_request = {}
    if requests:
        for group, g in by_group.items():
            net = max(0.0, g["cpu_seconds"] - g["idle_cores"] * seconds)
            per_request[group] = round(net / requests * 1e6)  # µs of CPU per request (all endpoints)
    return {"meta": meta, "locust": locust, "audit": audit,
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
    out.append(f"- users: target {meta['users']:,}, peak {meta['users_held']['peak']:,}, held at least "
               f"{meta['users_held']['held']:,} for {meta['hold_seconds']} s "
               f"after a {meta['ramp_seconds']} s ramp at {meta['spawn_rate']}/s; roll {meta['voters']:,} voters")
    out.append(f"- processes: services {meta['service_workers']}, Locust master + {meta['locust_workers']} workers, "
               f"{meta['sources']} loopback source addresses; machine {meta['cores']} cores")
    out.append(f"- requests {locust.get('requests', 0):,}, failures {locust.get('failures', 0):,}, "
               f"{locust.get('rps', 0):.0f} req/s overall")
    out.append(f"- SLOs: {'met' if not locust.get('breaches') else 'MISSED'}; Locust exit code {meta['locust_exit']}")
    for b in locust.get("breaches", []):
        out.append(f"  - {b}")
    out.append(f"- audit: `{meta['audit_line']}` (receipts in the ledger: {audit.get('ledger', {}).get('receipts', 0):,})")
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


def write(run_dir: Path, summary: dict) -> None:
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (run_dir / "report.md").write_text(markdown(summary))
