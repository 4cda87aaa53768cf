"""Chaos experiments (`make chaos`): faults under load, each followed by the load test's audit."""
