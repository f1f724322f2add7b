"""The base job template of a Kubernetes work pool: one Job per flow run, from the worker image.

prefect-kubernetes' own template, with Autoloader's defaults, plus one thing it lacks: the run's
secrets (database URL, cloud keys) come from existing Kubernetes Secrets by `envFrom`, never from
Prefect variables or parameters.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from prefect_kubernetes.worker import KubernetesWorker

DEFAULTS: dict[str, Any] = {
    "image": os.environ.get("AUTOLOADER_WORKER_IMAGE", "autoloader/worker:latest"),
    "namespace": os.environ.get("AUTOLOADER_JOB_NAMESPACE", "autoloader"),
    "service_account_name": os.environ.get("AUTOLOADER_JOB_SERVICE_ACCOUNT", "autoloader-runs"),
    "image_pull_policy": "IfNotPresent",
    "backoff_limit": 0,  # a failed run is retried by Autoloader with the ledger, not by the Job
    "finished_job_ttl": 3600,
    "cpu_request": "500m",
    "memory_request": "1Gi",
    "memory_limit": "4Gi",
}


def job_template(
    config_map: str = "autoloader-config", secrets: tuple[str, ...] = ("autoloader-secrets",)
) -> dict[str, Any]:
    template: dict[str, Any] = copy.deepcopy(KubernetesWorker.get_default_base_job_template())
    properties = template["variables"]["properties"]
    for name, value in DEFAULTS.items():
        properties[name]["default"] = value
    container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    container["envFrom"] = [{"configMapRef": {"name": config_map}}] + [
        {"secretRef": {"name": secret}} for secret in secrets
    ]
    pod = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    pod["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    return template
