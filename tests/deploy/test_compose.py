"""deploy/compose.yaml and deploy/Dockerfile, checked offline: the compose file against
the compose-spec JSON schema (check-jsonschema's vendored copy), the Dockerfile with
dockerfile-parse, and both against the code they run (commands, environment)."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from services.cli.main import build_parser
from services.common.sealed_box import generate_pem
from tests.deploy.config import (
    DEPLOY,
    ROOT,
    example_values,
    interpolate,
    load_service_settings,
    signing_key_pem,
    variables_the_services_read,
)

COMPOSE = DEPLOY / "compose.yaml"
APP_SERVICES = {"auth": 8001, "vote": 8002, "results": 8003}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())  # PyYAML resolves the anchors and `<<` merges


def ballotline_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("image", "").startswith("ballotline:")}


def test_the_compose_file_is_valid_against_the_compose_spec_schema():
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_compose_file_runs_the_whole_system(compose):
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "auth", "vote", "results", "tally", "edge"}
    commands = {name: s["command"] for name, s in ballotline_services(compose).items()}
    assert commands == {
        "migrate": ["db", "migrate"],
        "auth": ["serve", "auth"],
        "vote": ["serve", "vote"],
        "results": ["serve", "results"],
        "tally": ["tally", "run"],
    }
    for command in commands.values():  # each is a real `ballotline` command line
        build_parser().parse_args(command)


def test_services_start_after_the_migration_and_the_edge_after_their_readiness(compose):
    for name, service in ballotline_services(compose).items():
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert compose["services"]["edge"]["depends_on"] == {s: {"condition": "service_healthy"} for s in APP_SERVICES}
    for name, port in APP_SERVICES.items():
        service = compose["services"][name]
        assert service["environment"]["PORT"] == str(port)
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_every_variable_set_for_a_service_is_one_the_services_read(compose):
    known = variables_the_services_read()
    for name, service in ballotline_services(compose).items():
        assert set(service["environment"]) - known == set(), name


def test_each_service_loads_a_complete_production_configuration_from_the_compose_file(compose, tmp_path):
    """With deploy/compose.env.example as .env and keys where the secrets are mounted."""
    values = example_values(DEPLOY / "compose.env.example")
    mounted = {}
    tally_private, tally_public = generate_pem()
    material = {"tally_private_key": tally_private.decode(), "tally_public_key": tally_public.decode()}
    for name in compose["secrets"]:
        (tmp_path / name).write_text(material.get(name) or signing_key_pem())
        mounted[f"/run/secrets/{name}"] = str(tmp_path / name)
    loaded = {}
    for name in APP_SERVICES:
        environment = {}
        for key, value in compose["services"][name]["environment"].items():
            value = interpolate(str(value), values)
            environment[key] = mounted.get(value, value)
        loaded[name] = load_service_settings(name, environment)
        assert loaded[name].common.production and loaded[name].common.host == "0.0.0.0"
    assert loaded["results"].run_tally is False  # the tally runs as its own service


def test_auth_believes_x_forwarded_for_from_the_edge_only(compose):
    edge_address = compose["services"]["edge"]["networks"]["backend"]["ipv4_address"]
    assert compose["services"]["auth"]["environment"]["AUTH_TRUSTED_PROXIES"] == f"{edge_address}/32"


def test_the_edge_mounts_the_tested_nginx_configuration(compose):
    mounts = {m.split(":")[1]: m.split(":")[0] for m in compose["services"]["edge"]["volumes"] if m.startswith("./")}
    assert mounts == {
        "/etc/nginx/conf.d/default.conf": "./nginx/ballotline.conf",
        "/etc/nginx/conf.d/upstreams.conf": "./nginx/upstreams.conf",
    }
    for source in mounts.values():
        assert (DEPLOY / source).is_file()


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    parser = DockerfileParser(path=str(DEPLOY / "Dockerfile"), env_replace=False)
    return parser


def stages(dockerfile: DockerfileParser) -> list[list[dict]]:
    result: list[list[dict]] = []
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_the_image_is_built_in_stages_and_runs_as_an_unprivileged_user(dockerfile):
    built = stages(dockerfile)
    assert len(built) >= 2
    final = built[-1]
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0].isdigit()  # numeric, for Kubernetes' runAsNonRoot
    assert any(i["instruction"] == "COPY" and i["value"].startswith("--from=build ") for i in final)
    assert not any(i["instruction"] in ("RUN",) and "pip install" in i["value"] for i in final)


def test_the_image_entry_point_is_the_ballotline_command(dockerfile):
    final = stages(dockerfile)[-1]
    entrypoint = [i["value"] for i in final if i["instruction"] == "ENTRYPOINT"]
    cmd = [i["value"] for i in final if i["instruction"] == "CMD"]
    assert entrypoint == ['["ballotline"]']
    assert cmd == ['["serve", "results"]']
    assert (ROOT / "pyproject.toml").read_text().count('ballotline = "services.cli.main:main"') == 1


def test_the_build_context_holds_what_the_dockerfile_copies(dockerfile):
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    copied = []
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "COPY" and not instruction["value"].startswith("--from"):
            copied.extend(instruction["value"].split()[:-1])
    assert copied == ["pyproject.toml", "README.md", "services"]
    for source in copied:
        assert (ROOT / source).exists()
        assert f"!{source}" in ignore or f"!{source}/" in ignore
