"""deploy/prometheus/alerts.yml: valid for Prometheus (`promtool check rules`), each alert
firing when it should and not before (`promtool test rules alerts.test.yml`), and every
metric it names exported by the services."""
from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

HERE = Path(__file__).resolve().parent
RULES = HERE.parents[1] / "deploy" / "prometheus" / "alerts.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian's prometheus package; .ci/run installs it)"
)
METRIC_MODULES = (
    "services.common.metrics",
    "services.auth.metrics",
    "services.vote.metrics",
    "services.results.metrics",
    "services.tally.metrics",
)


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=HERE)


@needs_promtool
def test_the_alerting_rules_are_valid_prometheus_rules():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_promtool
def test_each_alert_fires_when_it_should_and_not_before():
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def exported_series() -> set[str]:
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names = set()
    suffixes = {"counter": ("_total",), "histogram": ("", "_bucket", "_sum", "_count"), "gauge": ("",)}
    for metric in REGISTRY.collect():
        names.update(metric.name + suffix for suffix in suffixes.get(metric.type, ("",)))
    return names


def test_every_metric_an_alert_names_is_exported_by_a_service():
    named = set(re.findall(r"\bballotline_[a-z_]+", RULES.read_text()))
    assert named, "the rules name no ballotline_ metric"
    assert named - exported_series() == set()


def test_every_alert_has_a_unit_test():
    alerts = set(re.findall(r"^\s*- alert: (\w+)", RULES.read_text(), re.M))
    tested = set(re.findall(r"alertname: (\w+)", (HERE / "alerts.test.yml").read_text()))
    assert alerts - tested == set()
