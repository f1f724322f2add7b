"""The Helm chart as Kubernetes will see it: `helm lint --strict` and `helm template` with the
default values and the CI value sets, every manifest checked against the Kubernetes API schemas
(kubernetes-validate, offline), and the facts an operator relies on pinned."""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import pytest
import yaml
from chart_render import (
    CHART,
    VALUE_SETS,
    operator_kind_errors,
    render,
    render_error,
    run_helm,
    values_args,
)

KUBERNETES_VERSION = "1.30"
OPERATOR_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}  # Prometheus Operator CRDs
SECRET_NAMES = re.compile(
    r"(PASSWORD|SECRET|TOKEN|API_KEY|DATABASE_URL|CLUSTERS|ACCESS_KEY|AUTH_STRING)"
)


def pods_of(manifests: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for manifest in manifests:
        if manifest["kind"] in ("Deployment", "Job"):
            found.append((f"{manifest['kind']}/{manifest['metadata']['name']}", manifest))
    return found


def containers_of(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def by_name(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert matches, f"no {kind} {name} in {[m['metadata']['name'] for m in manifests]}"
    return matches[0]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_the_chart_lints_strictly(value_set: str) -> None:
    done = run_helm("lint", "--strict", str(CHART), *values_args(value_set))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_manifest_is_valid_for_the_kubernetes_api(value_set: str) -> None:
    manifests = render(value_set)
    operator = [m for m in manifests if m["kind"] in OPERATOR_KINDS]
    assert not operator_kind_errors(operator)
    checked = len(operator)
    for manifest in manifests:
        if manifest["kind"] in OPERATOR_KINDS:
            continue
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message}")
        checked += 1
    assert checked >= 10


def test_the_operator_kinds_are_checked_for_real() -> None:
    """The validator finds a bad value: it is not a check that passes by construction."""
    [monitor] = [m for m in render("production") if m["kind"] == "PodMonitor"]
    monitor["spec"]["podMetricsEndpoints"][0]["interval"] = "every minute"
    [error] = operator_kind_errors([monitor])
    assert "interval" in error


def test_the_value_sets_render_what_they_turn_on() -> None:
    kinds = {name: {m["kind"] for m in render(name)} for name in VALUE_SETS}
    assert {"ServiceMonitor", "PodMonitor", "PrometheusRule"} <= kinds["production"]
    assert not OPERATOR_KINDS & kinds["default"]
    assert {"Role", "RoleBinding", "ServiceAccount"} <= kinds["kubernetes-pool"]
    assert not {"Role", "RoleBinding"} & kinds["default"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_high_memory_workers_take_one_run_at_a_time(value_set: str) -> None:
    worker = by_name(render(value_set), "Deployment", "rel-worker-high-memory")
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert "--limit=1" in container["args"]
    assert "--queue=high-memory" in container["args"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_each_enabled_queue_has_its_own_workers(value_set: str) -> None:
    manifests = render(value_set)
    for queue in ("default", "high-memory", "priority"):
        worker = by_name(manifests, "Deployment", f"rel-worker-{queue}")
        [container] = worker["spec"]["template"]["spec"]["containers"]
        assert f"--queue={queue}" in container["args"]
        hpa = by_name(manifests, "HorizontalPodAutoscaler", f"rel-worker-{queue}")
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"rel-worker-{queue}"
    off = render(value_set, "workers.queues.priority.enabled=false")
    assert not [m for m in off if m["metadata"]["name"] == "rel-worker-priority"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_only_the_default_queues_workers_export_the_ingestion_gauges(value_set: str) -> None:
    manifests = render(value_set)
    exporting = {
        queue
        for queue in ("default", "high-memory", "priority")
        if "--no-ingestion-metrics"
        not in by_name(manifests, "Deployment", f"rel-worker-{queue}")["spec"]["template"]["spec"][
            "containers"
        ][0]["args"]
    }
    assert exporting == {"default"}
    error = render_error("workers.queues.default.enabled=false")
    assert "ingestionMetrics" in error
    moved = render(
        value_set,
        "workers.queues.default.enabled=false",
        "workers.queues.priority.ingestionMetrics=true",
    )
    [container] = by_name(moved, "Deployment", "rel-worker-priority")["spec"]["template"]["spec"][
        "containers"
    ]
    assert "--no-ingestion-metrics" not in container["args"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_no_secret_value_is_inlined(value_set: str) -> None:
    manifests = render(value_set)
    assert not [m for m in manifests if m["kind"] == "Secret"]
    for where, workload in pods_of(manifests):
        for container in containers_of(workload):
            for variable in container.get("env", []):
                if SECRET_NAMES.search(variable["name"]) and "JOB_" not in variable["name"]:
                    assert "valueFrom" in variable, f"{where}: {variable['name']} is inlined"
                    assert "secretKeyRef" in variable["valueFrom"], where
                value = str(variable.get("value", ""))
                assert not re.search(r"://[^/\s]*:[^/\s]*@", value), f"{where}: {value}"
    for config in (m for m in manifests if m["kind"] == "ConfigMap"):
        for key, value in config.get("data", {}).items():
            assert not SECRET_NAMES.search(key), f"ConfigMap key {key}"
            assert not re.search(r"://[^/\s]*:[^/\s]*@", value), f"ConfigMap {key}"


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_prefects_api_auth_reaches_every_component_from_one_secret(value_set: str) -> None:
    manifests = render(value_set)
    reference = {"secretKeyRef": {"name": "prefect-auth", "key": "auth-string"}}
    servers = [m for m in manifests if m["metadata"]["name"] == "rel-prefect"]
    for server in (m for m in servers if m["kind"] == "Deployment"):  # not with an external one
        env = containers_of(server)[0]["env"]
        assert {"name": "PREFECT_SERVER_API_AUTH_STRING", "valueFrom": reference} in env
    clients = [
        (where, container)
        for where, workload in pods_of(manifests)
        for container in containers_of(workload)
        if any(v["name"] == "PREFECT_API_URL" for v in container.get("env", []))
        or where.startswith(("Deployment/rel-api", "Deployment/rel-worker", "Job/rel-reconcile"))
    ]
    assert any(w.startswith("Deployment/rel-api") for w, _ in clients)
    assert any(w.startswith("Deployment/rel-worker") for w, _ in clients)
    for where, container in clients:
        assert {"name": "PREFECT_API_AUTH_STRING", "valueFrom": reference} in container[
            "env"
        ], where
    off = render(value_set, "prefect.auth.enabled=false")
    assert "AUTH_STRING" not in json.dumps(off)


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_network_policies_close_prefect_and_the_metrics_to_other_pods(value_set: str) -> None:
    manifests = render(value_set)
    external = not [m for m in manifests if m["metadata"]["name"] == "rel-prefect"]
    if external:  # an external Prefect's network is the operator's; the metrics stay closed
        value_set, manifests = "default", render("default")
    prefect = by_name(manifests, "NetworkPolicy", "rel-prefect")
    assert prefect["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "prefect-server"
    )
    [rule] = prefect["spec"]["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "rel"}}},
        {"podSelector": {"matchLabels": {"autoloader.io/run": "true"}}},
    ]
    metrics = by_name(manifests, "NetworkPolicy", "rel-worker-metrics")
    assert [p["port"] for p in metrics["spec"]["ingress"][0]["ports"]] == [9090]
    scraper = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    opened = render(
        value_set,
        "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring",
    )
    assert (
        scraper
        in by_name(opened, "NetworkPolicy", "rel-worker-metrics")["spec"]["ingress"][0]["from"]
    )
    assert not [
        m for m in render(value_set, "networkPolicy.enabled=false") if m["kind"] == "NetworkPolicy"
    ]


def test_a_secret_cannot_be_slipped_in_through_settings() -> None:
    error = render_error("settings.AUTOLOADER_DATABASE_URL=postgresql://u:p@h/db")
    assert "settings" in error


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_the_migrate_hook_runs_before_the_api(value_set: str) -> None:
    manifests = render(value_set)
    migrate = by_name(manifests, "Job", "rel-migrate")
    hooks = migrate["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert hooks == ["pre-install", "pre-upgrade"]
    assert migrate["spec"]["template"]["spec"]["initContainers"][0]["args"] == ["db", "upgrade"]
    api = by_name(manifests, "Deployment", "rel-api")
    assert "helm.sh/hook" not in api["metadata"].get("annotations", {})
    # The pre-install hook cannot rely on the chart's ConfigMap: it does not exist yet.
    for container in containers_of(migrate):
        assert "envFrom" not in container
    reconcile = by_name(manifests, "Job", "rel-reconcile")
    assert reconcile["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert reconcile["spec"]["template"]["spec"]["containers"][0]["args"] == ["reconcile"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_container_has_resources_probes_and_a_locked_down_context(value_set: str) -> None:
    for where, workload in pods_of(render(value_set)):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        for container in containers_of(workload):
            name = f"{where}/{container['name']}"
            resources = container.get("resources", {})
            assert resources.get("requests") and resources.get("limits"), name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            if workload["kind"] == "Deployment":  # Jobs end on their own: no probes
                assert container.get("livenessProbe") and container.get("readinessProbe"), name


def test_the_api_scales_and_survives_drains() -> None:
    manifests = render("production")
    hpa = by_name(manifests, "HorizontalPodAutoscaler", "rel-api")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    pdb = by_name(manifests, "PodDisruptionBudget", "rel-api")
    assert pdb["spec"]["minAvailable"] == 2
    api = by_name(manifests, "Deployment", "rel-api")
    assert "replicas" not in api["spec"]  # the HPA owns the count
    probes = api["spec"]["template"]["spec"]["containers"][0]
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_a_kubernetes_work_pool_gets_its_service_accounts_and_rights() -> None:
    manifests = render("kubernetes-pool")
    assert not [m for m in manifests if m["metadata"]["name"] == "rel-prefect"]
    config = by_name(manifests, "ConfigMap", "rel-autoloader")
    assert config["data"]["AUTOLOADER_PREFECT_API_URL"] == "https://prefect.example.com/api"
    worker = by_name(manifests, "Deployment", "rel-worker-default")
    pod = worker["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "rel-worker"
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["AUTOLOADER_JOB_SERVICE_ACCOUNT"] == "autoloader-runs"
    assert env["AUTOLOADER_JOB_DATABASE_SECRET"] == "autoloader-database/url"
    assert env["AUTOLOADER_JOB_NAMESPACE"] == "autoloader"
    assert env["AUTOLOADER_JOB_FILES_SECRET"] == "gcs-ingest"  # runs mount it as workers do
    assert "--type=kubernetes" in pod["containers"][0]["args"]
    role = by_name(manifests, "Role", "rel-worker")
    jobs = next(r for r in role["rules"] if "jobs" in r["resources"])
    assert "create" in jobs["verbs"]
    runs = by_name(manifests, "ServiceAccount", "autoloader-runs")
    assert runs["automountServiceAccountToken"] is False


def test_the_monitoring_assets_render_the_rules_and_the_dashboard() -> None:
    manifests = render("production")
    rule = by_name(manifests, "PrometheusRule", "rel-autoloader")
    alerts = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
    assert set(alerts) >= {
        "AutoloaderPrefectUnreachable",
        "AutoloaderRunFailureRate",
        "AutoloaderQueueBacklog",
        "AutoloaderNoWorkers",
        "AutoloaderStaleIngestion",
    }
    assert "> 0.05" in alerts["AutoloaderRunFailureRate"]["expr"]  # from the values
    assert "> 20" in alerts["AutoloaderQueueBacklog"]["expr"]
    assert "{{ $labels.queue }}" in alerts["AutoloaderQueueBacklog"]["annotations"]["summary"]
    dashboard = by_name(manifests, "ConfigMap", "rel-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    panels = json.loads(dashboard["data"]["autoloader.json"])["panels"]
    assert len(panels) >= 10


def test_unknown_or_misspelt_values_are_refused_by_name() -> None:
    assert "replicass" in render_error("api.replicass=3")
    assert "workers.type" in render_error("workers.type=docker")
    assert "prefect.apiUrl" in render_error("prefect.server.enabled=false")


def test_values_yaml_documents_every_setting() -> None:
    """Each key with a value has a comment just above it (helm-docs' `# --` style)."""
    lines = (CHART / "values.yaml").read_text().splitlines()

    def documented(number: int) -> bool:
        return number > 0 and lines[number - 1].strip().startswith("#")

    def parent_of(number: int) -> int:
        indent = len(lines[number]) - len(lines[number].lstrip())
        for above in range(number - 1, -1, -1):
            text = lines[above]
            is_key = text.strip() and not text.strip().startswith("#")
            if is_key and len(text) - len(text.lstrip()) < indent:
                return above
        return -1

    undocumented = []
    for number, line in enumerate(lines):
        match = re.match(r"^(\s*)([\w-]+):\s*(\S.*)?$", line)
        if not match or not match.group(3):
            continue
        parent = parent_of(number)
        # A leaf is documented above itself, or is part of a documented block (resources:).
        if not documented(number) and not (parent >= 0 and documented(parent)):
            undocumented.append(line.strip())
    assert not undocumented, undocumented


def test_the_schema_is_strict_at_every_level() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    loose = []

    def walk(node: dict[str, Any], path: str) -> None:
        if node.get("type") == "object" and "properties" in node:
            if node.get("additionalProperties") is not False:
                loose.append(path or "(top)")
            for key, child in node["properties"].items():
                walk(child, f"{path}.{key}".lstrip("."))

    walk(schema, "")
    assert not loose, loose
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(defaults) == set(schema["properties"])
