"""deploy/k8s: every manifest valid against Kubernetes' schemas (kubernetes-validate,
offline), CloudNativePG's Cluster against the minimal schema in schemas/, the overlay
rendered by `kubectl kustomize` where kubectl exists, and the manifests held to the code
they run (commands, environment, probes) and to the promises (synchronous standby,
metrics and Postgres reachable only from inside)."""
from __future__ import annotations

import json
import shutil
import subprocess

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.cli.main import build_parser
from services.common.sealed_box import generate_pem
from tests.deploy.config import DEPLOY, load_service_settings, signing_key_pem, variables_the_services_read

K8S = DEPLOY / "k8s"
BASE = K8S / "base"
KUBERNETES_VERSION = "1.30"
CLUSTER_SCHEMA = json.loads((DEPLOY.parent / "tests/deploy/schemas/cnpg-cluster.schema.json").read_text())
HTTP_SERVICES = {"auth": 8001, "vote": 8002, "results": 8003}
KUBECTL = shutil.which("kubectl")


def base_resources() -> list[dict]:
    """The base as kustomize would list it (its `resources`, in order), without rendering."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    documents = []
    for name in kustomization["resources"]:
        documents.extend(d for d in yaml.safe_load_all((BASE / name).read_text()) if d)
    return documents


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return base_resources()


def of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def validate(document: dict) -> None:
    if document["apiVersion"] == "postgresql.cnpg.io/v1":
        jsonschema.validate(document, CLUSTER_SCHEMA)
    else:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_every_base_manifest_is_valid_against_the_kubernetes_schemas(resources):
    assert len(resources) >= 20
    for document in resources:
        validate(document)


def test_the_cluster_schema_refuses_what_it_does_not_know(resources):
    cluster = of_kind(resources, "Cluster")["ballotline-db"]
    typo = {**cluster, "spec": {**cluster["spec"], "instance": 3}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, CLUSTER_SCHEMA)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: the overlay is not rendered (base checked alone)")
@pytest.mark.parametrize("target", ["base", "overlays/example"])
def test_the_kustomization_renders_and_every_rendered_manifest_is_valid(target):
    rendered = subprocess.run([KUBECTL, "kustomize", str(K8S / target)], capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    documents = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    for document in documents:
        validate(document)
    if target == "overlays/example":
        assert {d["metadata"].get("namespace") for d in documents if d["kind"] != "Namespace"} == {"ballotline-example"}
        images = {c["image"] for d in documents if d["kind"] in ("Deployment", "Job")
                  for c in d["spec"]["template"]["spec"]["containers"] if c["name"] != "redis"}
        assert images == {"registry.example.org/ballotline:0.1.0"}


def containers(resources: list[dict]) -> dict[str, dict]:
    found = {}
    for kind in ("Deployment", "Job"):
        for name, workload in of_kind(resources, kind).items():
            (container,) = workload["spec"]["template"]["spec"]["containers"]
            found[name] = container
    return found


def test_each_ballotline_workload_runs_a_real_command_of_the_image(resources):
    commands = {name: c["args"] for name, c in containers(resources).items() if c["image"] == "ballotline"}
    assert commands == {
        "auth": ["serve", "auth"],
        "vote": ["serve", "vote"],
        "results": ["serve", "results"],
        "tally": ["tally", "run"],
        "ballotline-migrate": ["db", "migrate"],
    }
    for args in commands.values():
        build_parser().parse_args(args)


def test_http_services_are_probed_on_readyz_and_healthz_and_sized(resources):
    for name, port in HTTP_SERVICES.items():
        container = containers(resources)[name]
        assert {"name": "http", "containerPort": port} in container["ports"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert "memory" in container["resources"]["limits"]
        service = of_kind(resources, "Service")[name]
        assert service["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]


def test_the_tally_is_probed_on_its_internal_listener(resources):
    container = containers(resources)["tally"]
    assert {"name": "metrics", "containerPort": 9004} in container["ports"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert env["METRICS_PORT"] == "9004" and env["TALLY_DATABASE_ROLE"] == "ballotline_tally"


def test_every_pod_runs_unprivileged(resources):
    for kind in ("Deployment", "Job"):
        for name, workload in of_kind(resources, kind).items():
            pod = workload["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            for container in pod["containers"]:
                assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
                assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, name


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_http_services_scale_on_cpu_and_every_deployment_has_a_disruption_budget(resources):
    autoscalers = of_kind(resources, "HorizontalPodAutoscaler")
    assert set(autoscalers) == set(HTTP_SERVICES)
    for name, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert hpa["spec"]["minReplicas"] >= 2
    budgets = of_kind(resources, "PodDisruptionBudget").values()
    for name, deployment in of_kind(resources, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(selects(b["spec"]["selector"], labels) for b in budgets), name


def test_postgres_keeps_a_synchronous_standby(resources):
    spec = of_kind(resources, "Cluster")["ballotline-db"]["spec"]
    assert spec["instances"] >= 2
    assert spec["postgresql"]["synchronous"]["number"] >= 1
    assert spec["postgresql"]["synchronous"]["dataDurability"] == "required"
    assert spec["postgresql"]["parameters"]["synchronous_commit"] == "on"


def admitted(policies: dict[str, dict], pod_labels: dict, port) -> list[list[dict]]:
    """The `from` lists of every rule that admits traffic to `port` of a pod with these labels."""
    sources = []
    for policy in policies.values():
        if not selects(policy["spec"]["podSelector"], pod_labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            if any(p["port"] == port for p in rule.get("ports", [])):
                sources.append(rule.get("from", [{"anywhere": True}]))
    return sources


def test_metrics_and_postgres_are_reachable_only_from_inside(resources):
    policies = of_kind(resources, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    for name in HTTP_SERVICES:
        labels = of_kind(resources, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert admitted(policies, labels, "metrics") == [[monitoring]]
    postgres = {"cnpg.io/cluster": "ballotline-db"}
    for sources in admitted(policies, postgres, 5432):
        for source in sources:
            assert "anywhere" not in source
            namespace = source.get("namespaceSelector", {}).get("matchLabels", {})
            assert namespace in ({}, {"kubernetes.io/metadata.name": "cnpg-system"}), source


def test_every_variable_set_is_one_the_services_read(resources):
    known = variables_the_services_read()
    config = of_kind(resources, "ConfigMap")["ballotline-config"]["data"]
    assert set(config) - known == set()
    for name, container in containers(resources).items():
        if container["image"] == "ballotline":
            assert {e["name"] for e in container.get("env", [])} - known == set(), name


def test_each_http_service_loads_a_complete_production_configuration_from_its_manifest(resources, tmp_path):
    config = of_kind(resources, "ConfigMap")["ballotline-config"]["data"]
    for name in HTTP_SERVICES:
        container = containers(resources)[name]
        mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
        environment = dict(config)
        for variable in container["env"]:
            value = variable.get("value")
            if "valueFrom" in variable:  # a Secret: any well-formed value
                value = "https://sms.example/send" if variable["name"].endswith("_URL") else "s" * 40
                if variable["name"] == "DATABASE_URL":
                    value = "postgresql://ballotline:x@ballotline-db-rw:5432/ballotline"
            elif variable["name"].endswith("_KEY_FILE"):
                assert value.rsplit("/", 1)[0] in mounted
                value = str(tmp_path / f"{name}-{variable['name']}.pem")
                public = generate_pem()[1].decode()
                (tmp_path / f"{name}-{variable['name']}.pem").write_text(
                    public if variable["name"] == "TALLY_PUBLIC_KEY_FILE" else signing_key_pem())
            environment[variable["name"]] = value
        settings = load_service_settings(name, environment)
        assert settings.common.production and settings.common.port == HTTP_SERVICES[name]
