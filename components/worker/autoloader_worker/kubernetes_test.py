from typing import Any

from prefect.utilities.templating import apply_values

from autoloader_worker.kubernetes import job_template


def test_the_template_renders_a_job_that_takes_secrets_by_reference() -> None:
    template = job_template(secrets=("db", "cloud"))
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
    assert {"secretRef": {"name": "db"}} in container["envFrom"]
    assert {"secretRef": {"name": "cloud"}} in container["envFrom"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert manifest["spec"]["backoffLimit"] == 0
    # No secret value is carried by the template itself.
    assert "password" not in str(template).lower()
