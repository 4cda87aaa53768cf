"""Settings every service shares: production unless told otherwise, and where the
internal metrics listener binds."""
from __future__ import annotations

import pytest

from services.common.settings import CommonSettings, ConfigError, Env

BASE = {"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x"}


def test_without_ballotline_env_a_service_is_in_production():
    assert CommonSettings.from_env(Env(BASE), default_port=8002).production


def test_only_an_explicit_development_turns_production_off():
    assert not CommonSettings.from_env(Env({**BASE, "BALLOTLINE_ENV": "development"}), default_port=8002).production
    with pytest.raises(ConfigError, match="BALLOTLINE_ENV"):
        CommonSettings.from_env(Env({**BASE, "BALLOTLINE_ENV": "dev"}), default_port=8002)


def test_metrics_listen_on_localhost_at_the_public_port_plus_1000_by_default():
    common = CommonSettings.from_env(Env({**BASE, "PORT": "9100"}), default_port=8002)
    assert (common.metrics_host, common.metrics_port) == ("127.0.0.1", 10100)
    assert CommonSettings.from_env(Env(BASE), default_port=8003).metrics_port == 9003


@pytest.mark.parametrize("port, expected", [("0", 0), ("9999", 9999)])
def test_metrics_port_is_configurable_and_0_turns_the_listener_off(port, expected):
    common = CommonSettings.from_env(Env({**BASE, "METRICS_PORT": port, "METRICS_HOST": "10.0.0.5"}), default_port=8001)
    assert (common.metrics_host, common.metrics_port) == ("10.0.0.5", expected)


@pytest.mark.parametrize("port", ["8001", "-1", "70000"])
def test_a_metrics_port_equal_to_the_public_one_or_out_of_range_is_refused(port):
    with pytest.raises(ConfigError, match="METRICS_PORT"):
        CommonSettings.from_env(Env({**BASE, "METRICS_PORT": port}), default_port=8001)
