"""Renders the Helm chart with the helm binary ./pants provisions (never downloaded here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CHART = Path("charts/autoloader")
VALUE_SETS = {
    "default": None,
    "production": CHART / "ci/production-values.yaml",
    "kubernetes-pool": CHART / "ci/kubernetes-pool-values.yaml",
}


def tools() -> Path:
    """Where ./pants (build-support/provision-helm.sh) keeps the tools it made."""
    return Path(os.environ.get("AUTOLOADER_CACHE") or Path.home() / ".cache/autoloader") / "tools"


@cache
def helm() -> str:
    """The helm binary from the tarball build-support/provision-helm.sh made for Pants."""
    tarballs = sorted(tools().glob("helm-v*-linux-amd64.tar.gz"))
    if not tarballs:
        raise RuntimeError(f"no helm tarball under {tools()}: run ./pants once to make it")
    target = Path(tempfile.mkdtemp(prefix="helm-"))
    with tarfile.open(tarballs[-1]) as archive:
        archive.extractall(target, filter="data")
    binary = target / "linux-amd64/helm"
    binary.chmod(0o755)
    return str(binary)


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HELM_CACHE_HOME": tempfile.mkdtemp(),
        "HELM_CONFIG_HOME": tempfile.mkdtemp(),
    }
    return subprocess.run([helm(), *args], capture_output=True, text=True, env=env)


def values_args(value_set: str, *sets: str) -> list[str]:
    file = VALUE_SETS[value_set]
    return [*(["-f", str(file)] if file else []), *(a for s in sets for a in ("--set", s))]


def render(value_set: str, *sets: str, namespace: str = "autoloader") -> list[dict[str, Any]]:
    """The manifests `helm template` makes (hooks included), parsed."""
    done = run_helm(
        "template", "rel", str(CHART), "--namespace", namespace, *values_args(value_set, *sets)
    )
    if done.returncode:
        raise AssertionError(f"helm template failed: {done.stderr}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def render_error(*sets: str) -> str:
    done = run_helm("template", "rel", str(CHART), *values_args("default", *sets))
    assert done.returncode != 0, "helm template accepted values it should refuse"
    return done.stderr


def operator_kind_errors(manifests: list[dict[str, Any]]) -> list[str]:
    """Errors in ServiceMonitor, PodMonitor and PrometheusRule manifests, by the Prometheus
    Operator's own schemas (the npm package provision-helm.sh installs), run with node."""
    models = sorted(tools().glob("prometheus-operator-models-*/node_modules"))
    node = shutil.which("node")
    if not models or node is None:
        raise RuntimeError(f"node and {tools()}/prometheus-operator-models-* are needed")
    workdir = Path(tempfile.mkdtemp(prefix="operator-kinds-"))
    (workdir / "node_modules").symlink_to(models[-1])  # ES modules resolve beside the script
    script = workdir / "validate.mjs"
    shutil.copy(Path(__file__).with_name("validate_operator_kinds.mjs"), script)
    done = subprocess.run(
        [node, str(script)], input=json.dumps(manifests), capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the validator failed: {done.stderr}")
    return list(json.loads(done.stdout))
