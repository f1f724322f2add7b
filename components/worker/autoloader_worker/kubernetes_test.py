from typing import Any

from prefect.utilities.templating import apply_values

from autoloader_worker.kubernetes import JobPod, job_template


def test_the_template_renders_a_job_that_takes_secrets_by_reference() -> None:
    template = job_template(
        JobPod(env_secrets=("cloud", "more"), database_secret=("autoloader-db", "url"))
    )
    defaults = {
        name: spec["default"]
        for name, spec in template["variables"]["properties"].items()
        if "default" in spec
    }
    configuration: dict[str, Any] = apply_values(template["job_configuration"], defaults)
    manifest = configuration["job_manifest"]
    pod = manifest["spec"]["template"]["spec"]
    container = pod["containers"][0]

    assert container["image"] == "autoloader/worker:latest"
    # With the arguments prefect-kubernetes adds: `python -m prefect flow-run execute`.
    assert container["command"] == ["/app/bin/python", "-m"]
    raw = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    assert raw["containers"][0]["args"] == "{{ command }}"
    assert {"configMapRef": {"name": "autoloader-config"}} in container["envFrom"]
    assert {"secretRef": {"name": "cloud"}} in container["envFrom"]
    assert {"secretRef": {"name": "more"}} in container["envFrom"]
    assert container["env"] == [
        {
            "name": "AUTOLOADER_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "autoloader-db", "key": "url"}},
        }
    ]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert manifest["spec"]["backoffLimit"] == 0
    # No secret value is carried by the template itself.
    assert "password" not in str(template).lower()


def test_the_chart_names_the_pod_parts_by_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("AUTOLOADER_WORKER_IMAGE", "registry.example/autoloader/worker:1.2.3")
    monkeypatch.setenv("AUTOLOADER_JOB_NAMESPACE", "data")
    monkeypatch.setenv("AUTOLOADER_JOB_CONFIG_MAP", "rel-autoloader")
    monkeypatch.setenv("AUTOLOADER_JOB_ENV_SECRETS", "aws,azure")
    monkeypatch.setenv("AUTOLOADER_JOB_DATABASE_SECRET", "db-secret/dsn")
    monkeypatch.setenv("AUTOLOADER_JOB_FILES_SECRET", "gcs-keys")
    monkeypatch.setenv("AUTOLOADER_JOB_PREFECT_AUTH_SECRET", "prefect-auth")
    pod = JobPod.from_environment()
    assert pod.image == "registry.example/autoloader/worker:1.2.3"
    assert pod.namespace == "data" and pod.config_map == "rel-autoloader"
    assert pod.env_secrets == ("aws", "azure")
    assert pod.database_secret == ("db-secret", "dsn")
    assert pod.files_secret == "gcs-keys"
    assert pod.prefect_auth_secret == ("prefect-auth", "auth-string")


def test_run_pods_get_prefects_auth_by_reference_and_the_label_the_network_policy_admits() -> None:
    template = job_template(JobPod(database_secret=("db", "url"), prefect_auth_secret=("pa", "s")))
    pod = template["job_configuration"]["job_manifest"]["spec"]["template"]
    assert pod["metadata"]["labels"]["autoloader.io/run"] == "true"
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["PREFECT_API_AUTH_STRING"]["valueFrom"] == {
        "secretKeyRef": {"name": "pa", "key": "s"}
    }
    assert "value" not in env["PREFECT_API_AUTH_STRING"]


def test_a_files_secret_is_mounted_where_the_workers_have_it() -> None:
    template = job_template(JobPod(files_secret="gcs-keys"))
    spec = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    assert spec["volumes"] == [{"name": "credentials", "secret": {"secretName": "gcs-keys"}}]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "credentials", "mountPath": "/etc/autoloader/credentials", "readOnly": True}
    ]
    without = job_template(JobPod())
    assert "volumes" not in without["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
