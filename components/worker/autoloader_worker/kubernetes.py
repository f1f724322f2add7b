"""The base job template of a Kubernetes work pool: one Job per flow run, from the worker image.

prefect-kubernetes' own template, with Autoloader's defaults, plus one thing it lacks: the run's
settings and secrets (database URL, cloud keys) come from an existing ConfigMap and existing
Kubernetes Secrets, by reference, never from Prefect variables or parameters. The Helm chart
tells the worker their names through the AUTOLOADER_JOB_* variables read here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from prefect_kubernetes.worker import KubernetesWorker

from autoloader_core.settings import Settings

CREDENTIALS_DIR = "/etc/autoloader/credentials"  # where the chart mounts the files Secret too
RUN_POD_LABEL = "autoloader.io/run"


@dataclass(frozen=True)
class JobPod:
    """What a run's pod is made of, by reference."""

    image: str = "autoloader/worker:latest"
    namespace: str = "autoloader"
    service_account: str = "autoloader-runs"
    config_map: str = "autoloader-config"
    env_secrets: tuple[str, ...] = ()  # Secrets whose keys become environment variables
    database_secret: tuple[str, str] | None = None  # (Secret, key) of AUTOLOADER_DATABASE_URL
    files_secret: str | None = None  # mounted at CREDENTIALS_DIR, for `file:` credentials
    prefect_auth_secret: tuple[str, str] | None = None  # (Secret, key) of PREFECT_API_AUTH_STRING

    @classmethod
    def from_environment(cls) -> JobPod:
        """From the AUTOLOADER_WORKER_IMAGE and AUTOLOADER_JOB_* settings, read afresh."""
        settings = Settings()
        name, _, key = settings.job_database_secret.partition("/")
        auth, _, auth_key = settings.job_prefect_auth_secret.partition("/")
        return cls(
            image=settings.worker_image,
            namespace=settings.job_namespace,
            service_account=settings.job_service_account,
            config_map=settings.job_config_map,
            env_secrets=tuple(s for s in settings.job_env_secrets.split(",") if s),
            database_secret=(name, key or "url") if name else None,
            files_secret=settings.job_files_secret or None,
            prefect_auth_secret=(auth, auth_key or "auth-string") if auth else None,
        )


def job_template(pod: JobPod | None = None) -> dict[str, Any]:
    pod = pod or JobPod.from_environment()
    template: dict[str, Any] = copy.deepcopy(KubernetesWorker.get_default_base_job_template())
    properties = template["variables"]["properties"]
    defaults = {
        "image": pod.image,
        "namespace": pod.namespace,
        "service_account_name": pod.service_account,
        "image_pull_policy": "IfNotPresent",
        "backoff_limit": 0,  # a failed run is retried by Autoloader with the ledger, not the Job
        "finished_job_ttl": 3600,
        "cpu_request": "500m",
        "memory_request": "1Gi",
        "memory_limit": "4Gi",
    }
    for name, value in defaults.items():
        properties[name]["default"] = value
    spec = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    container = spec["containers"][0]
    # The image's entrypoint is the worker; a run's pod starts Prefect's CLI from the same venv,
    # which prefect-kubernetes then gives `prefect flow-run execute` as arguments.
    container["command"] = ["/app/bin/python", "-m"]
    container["envFrom"] = [{"configMapRef": {"name": pod.config_map}}] + [
        {"secretRef": {"name": secret}} for secret in pod.env_secrets
    ]
    # A list in place of the `{{ env }}` placeholder: prefect-kubernetes puts Prefect's own
    # variables (API URL, flow run id) before it. Secrets by reference, never as values.
    env = [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for name, reference in (
            ("AUTOLOADER_DATABASE_URL", pod.database_secret),
            ("PREFECT_API_AUTH_STRING", pod.prefect_auth_secret),
        )
        if reference is not None
        for secret, key in [reference]
    ]
    if env:
        container["env"] = env
    # The chart's NetworkPolicy lets pods with this label (and the release's own) reach Prefect.
    metadata = template["job_configuration"]["job_manifest"]["spec"]["template"].setdefault(
        "metadata", {}
    )
    metadata.setdefault("labels", {})[RUN_POD_LABEL] = "true"
    if pod.files_secret:
        spec["volumes"] = [{"name": "credentials", "secret": {"secretName": pod.files_secret}}]
        container["volumeMounts"] = [
            {"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True}
        ]
    spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    return template
