"""The load generator's spread check and users-held accounting (loadtests/runner/spread.py):
users counted from the workers' own reports, a worker above 1.3x its fair share or at its
open-files limit fails the run, and the report shows one row per worker."""
from __future__ import annotations

from loadtests.runner import report, spread


def sample(t: float, pid: int, users: int, index: int | None = None, voters: int = 0) -> dict:
    return {"t": t, "pid": pid, "index": pid - 100 if index is None else index, "users": users,
            "classes": {"Voter": voters, "Watcher": users - voters}}


def row(index: int, peak: int, fds: int | None = 100, limit: int | None = 20_000) -> spread.WorkerRow:
    return spread.WorkerRow(index, 100 + index, peak, peak, peak, {}, 1.0, 60.0, fds, limit)


def test_users_on_all_workers_are_each_workers_latest_report_summed():
    samples = [sample(1, 100, 10), sample(2, 101, 20), sample(4, 100, 15), sample(5, 101, 5)]
    assert spread.totals(samples) == [(1, 10), (2, 30), (4, 35), (5, 20)]


def test_users_held_are_the_min_and_max_of_the_running_users_inside_the_hold_only():
    samples = [sample(1, 100, 50), sample(2, 101, 50), sample(10, 100, 100), sample(11, 101, 100),
               sample(20, 100, 90), sample(31, 101, 0)]
    held = spread.users_held(samples, (10, 30))
    assert (held["min"], held["max"], held["held"], held["peak"], held["samples"]) == (150, 200, 150, 200, 3)


def test_the_hold_starts_one_report_interval_after_the_ramp_and_ends_at_the_stop():
    assert spread.hold_window(100.0, 200.0) == (100.0 + spread.REPORT_INTERVAL, 200.0)


def test_a_ramp_that_never_completed_has_no_hold_and_holds_no_users():
    assert spread.hold_window(None, 200.0) is None
    assert spread.users_held([sample(1, 100, 50)], None)["min"] == 0


def test_the_fair_share_rounds_up_so_an_odd_split_is_not_a_breach():
    assert spread.fair_share(5, 4) == 2 and spread.fair_share(50_000, 8) == 6_250
    assert spread.problems([row(0, 2), row(1, 1), row(2, 1), row(3, 1)], 5, 4) == []


def test_an_even_spread_passes():
    assert spread.problems([row(i, 6_250) for i in range(8)], 50_000, 8) == []


def test_a_worker_above_1_3_times_its_share_fails_and_is_named():
    rows = [row(0, 20_000), *(row(i, 4_286) for i in range(1, 8))]
    [problem] = spread.problems(rows, 50_000, 8)
    assert "worker 0 (pid 100) held up to 20,000 users, 3.20x its fair share of 6,250" in problem


def test_exactly_1_3_times_the_share_still_passes():
    assert spread.problems([row(0, 130), row(1, 70)], 200, 2) == []
    assert spread.problems([row(0, 131), row(1, 69)], 200, 2) != []


def test_a_worker_at_its_open_files_limit_fails_the_run():
    [problem] = spread.problems([row(0, 100, fds=19_990), row(1, 100)], 200, 2)
    assert problem == "worker 0 (pid 100) reached its open-files limit: 19,990 open of 20,000"


def test_too_many_open_files_errors_fail_the_run_even_between_samples():
    errors = [{"error": "OSError(24, 'Too many open files')", "occurrences": 587},
              {"error": "ConnectionRefusedError(111)", "occurrences": 3}]
    assert spread.emfile_errors(errors) == 587
    assert "587 requests failed with 'Too many open files'" in spread.problems([row(0, 1)], 1, 1, 587)[0]


def test_a_worker_that_never_reported_fails_the_run():
    assert spread.problems([row(0, 100)], 200, 2) == ["only 1 of 2 Locust workers reported users"]


def test_fewer_users_than_the_target_during_the_hold_fail_the_run():
    held = {"min": 3_675, "max": 50_000}
    [problem] = spread.problems([row(i, 6_250) for i in range(8)], 50_000, 8, held=held)
    assert problem.startswith("only 3,675 of the 50,000 users were running")


def test_a_worker_taken_for_missing_fails_the_run():
    assert "missing 2 time(s)" in spread.problems([row(0, 1)], 1, 1, missing=2)[0]


def test_worker_rows_join_the_reports_with_each_process_by_pid():
    samples = [sample(1, 100, 5, voters=1), sample(2, 101, 5), sample(10, 100, 10, voters=1),
               sample(11, 101, 8), sample(20, 100, 0)]
    processes = [{"pid": 100, "cpu_seconds": 3.5, "peak_rss_mb": 70.2, "peak_fds": 30, "fd_limit": 20_000}]
    first, second = spread.worker_rows(samples, processes, (5, 15))
    assert (first.index, first.peak_users, first.hold_min, first.hold_max) == (0, 10, 10, 10)
    assert first.classes == {"Voter": 1, "Watcher": 9}
    assert (first.cpu_seconds, first.peak_rss_mb, first.peak_fds, first.fd_limit) == (3.5, 70.2, 30, 20_000)
    assert (second.index, second.peak_users, second.cpu_seconds) == (1, 8, None)


def test_the_soft_open_files_limit_is_read_from_proc_limits():
    text = ("Limit                     Soft Limit           Hard Limit           Units\n"
            "Max processes             95088                95088                processes\n"
            "Max open files            1024                 20000                files\n")
    assert spread.soft_nofile(text) == 1024
    assert spread.soft_nofile(text.replace("1024 ", "unlimited")) is None
    assert spread.soft_nofile("") is None


def test_the_report_shows_one_row_per_worker_and_the_verdict():
    workers = {"problems": ["worker 0 (pid 100) held up to 800 users, 4.00x its fair share of 200 (limit 1.3x)"],
               "fair_share": 200, "max_share": 1.3, "started_at": 0.0, "missing": [{"t": 5.0, "index": 1}],
               "rows": [row(0, 800).__dict__, row(1, 0, fds=None, limit=None).__dict__]}
    text = "\n".join(report.workers_markdown(workers))
    assert "Load generator spread: **FAILED**" in text and "- worker 0 (pid 100) held up to 800" in text
    assert "the master marked worker 1 missing (no heartbeat) 5 s after" in text
    assert "| 0 | 100 | 800 | 800-800 | 4.00 |" in text and "| 1 | 101 | 0 | 0-0 | 0.00 |" in text
    assert "| - | - |" in text  # a worker the monitor never saw
