"""Who may do what through the API: every endpoint refuses a missing or wrong key and a key
without the scope, and a tenant never reaches another tenant's ingestions, runs or files
(their ids answer 404, and nothing of theirs changes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_process import ApiProcess, api_environment, ingestion_body
from stores import Place
from support import StackFactory

from autoloader_api.app import create_app

OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app().openapi()["paths"].items()
    if path.startswith("/api/v1/")
    for method in methods
]
ADMIN_PATHS = re.compile(r"^/api/v1/(tenants|api-keys)")

# What another tenant sends to each operation on the first tenant's objects (a valid body, so
# that only ownership can refuse it).
FOREIGN: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/ingestions/{ingestion_id}"): None,
    ("PATCH", "/api/v1/ingestions/{ingestion_id}"): {"name": "taken-over"},
    ("DELETE", "/api/v1/ingestions/{ingestion_id}"): None,
    ("PATCH", "/api/v1/ingestions/{ingestion_id}/schedule"): {"cron": "* * * * *"},
    ("PATCH", "/api/v1/ingestions/{ingestion_id}/work-queue"): {"work_queue": None},
    ("POST", "/api/v1/ingestions/{ingestion_id}/pause"): None,
    ("POST", "/api/v1/ingestions/{ingestion_id}/resume"): None,
    ("POST", "/api/v1/ingestions/{ingestion_id}/run"): None,
    ("POST", "/api/v1/ingestions/{ingestion_id}/preview"): {},
    ("GET", "/api/v1/previews/{run_id}"): None,
    ("GET", "/api/v1/ingestions/{ingestion_id}/runs"): None,
    ("GET", "/api/v1/runs/{run_id}"): None,
    ("GET", "/api/v1/runs/{run_id}/logs"): None,
    ("POST", "/api/v1/runs/{run_id}/retry"): None,
    ("POST", "/api/v1/runs/{run_id}/cancel"): None,
    ("GET", "/api/v1/ingestions/{ingestion_id}/files"): None,
    ("POST", "/api/v1/ingestions/{ingestion_id}/files/reprocess"): {"statuses": ["loaded"]},
    ("GET", "/api/v1/ingestions/{ingestion_id}/schema-versions"): None,
    ("GET", "/api/v1/ingestions/{ingestion_id}/schema-versions/{version}"): None,
    ("POST", "/api/v1/ingestions/{ingestion_id}/refresh/full"): {"confirm": True},
    ("POST", "/api/v1/ingestions/{ingestion_id}/refresh/new-only"): {"confirm": True},
}


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "s3")


@pytest.fixture(scope="module")
def api(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    # No worker serves this API's pool: runs and previews stay scheduled, which is all we need.
    env = api_environment(
        stack,
        "it_api_access",
        AUTOLOADER_PREVIEW_WAIT_SECONDS="0",
        AUTOLOADER_SPARK_REMOTE="sc://127.0.0.1:9",
    )
    process = ApiProcess(env, tmp_path_factory.mktemp("api") / "api.log")
    yield process
    process.stop()


def path_of(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def test_every_tenant_owned_operation_is_in_the_matrix() -> None:
    owned = {op for op in OPERATIONS if "{ingestion_id}" in op[1] or "{run_id}" in op[1]}
    assert owned == set(FOREIGN)


def test_a_tenant_never_reaches_another_tenants_objects(api: ApiProcess, place: Place) -> None:
    _, owner_key = api.tenant(scopes=("write",))
    _, other_key = api.tenant(scopes=("write",))
    owner, other = api.client(owner_key), api.client(other_key)
    created = owner.post("/api/v1/ingestions", json=ingestion_body(place, "isolated"))
    assert created.status_code == 201, created.text
    ingestion_id = created.json()["id"]
    run = owner.post(f"/api/v1/ingestions/{ingestion_id}/run")
    assert run.status_code == 202, run.text
    preview = owner.post(f"/api/v1/ingestions/{ingestion_id}/preview", json={})
    assert preview.status_code == 202, preview.text
    ids = {"ingestion_id": ingestion_id, "run_id": run.json()["run_id"], "version": "1"}
    preview_ids = {**ids, "run_id": preview.json()["run_id"]}

    for (method, template), body in FOREIGN.items():
        path = path_of(template, preview_ids if "previews" in template else ids)
        answer = other.request(method, path, json=body)
        assert answer.status_code == 404, f"{method} {template}: {answer.status_code} {answer.text}"

    # Nothing of the owner's changed, and it does not show in the other tenant's lists.
    mine = owner.get(f"/api/v1/ingestions/{ingestion_id}").json()
    assert (mine["name"], mine["status"]) == (created.json()["name"], "active")
    assert mine["schedule"] == created.json()["schedule"]
    assert owner.get(f"/api/v1/runs/{ids['run_id']}").json()["state"] == "SCHEDULED"
    assert owner.get(f"/api/v1/previews/{preview_ids['run_id']}").json()["status"] == "running"
    assert other.get("/api/v1/ingestions").json()["items"] == []
    assert [i["id"] for i in owner.get("/api/v1/ingestions").json()["items"]] == [ingestion_id]
    # The same name is free in another tenant.
    assert (
        other.post(
            "/api/v1/ingestions",
            json={**ingestion_body(place, "isolated_b"), "name": created.json()["name"]},
        ).status_code
        == 201
    )


def test_a_tenants_table_is_closed_to_other_tenants_until_an_admin_shares_it(
    api: ApiProcess, place: Place
) -> None:
    owner_id, owner_key = api.tenant(scopes=("write",))
    other_id, other_key = api.tenant(scopes=("write",))
    owner, other, admin = api.client(owner_key), api.client(other_key), api.client(api.admin_key)
    table = f"orders_{uuid.uuid4().hex[:6]}"
    created = owner.post("/api/v1/ingestions", json=ingestion_body(place, table))
    assert created.status_code == 201, created.text
    closed = f"lake.it_api.{table} is not available to this tenant"

    def refused(answer: httpx.Response) -> None:
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        assert error["loc"] == ["body", "destination", "table"]
        assert closed in error["msg"] and "column" not in error["msg"]

    # Create (in another case: Spark reads it as the same table), preview, and moving an
    # ingestion of its own onto the table: each refused by field, saying no more than that.
    refused(other.post("/api/v1/ingestions", json=ingestion_body(place, table.upper())))
    body = ingestion_body(place, table)
    preview = {k: body[k] for k in ("source", "format", "destination")}
    refused(other.post("/api/v1/ingestions/preview", json=preview))
    own = other.post("/api/v1/ingestions", json=ingestion_body(place, f"{table}_b"))
    assert own.status_code == 201, own.text
    moved = other.patch(
        f"/api/v1/ingestions/{own.json()['id']}",
        json={"destination": {**body["destination"], "table": table}},
    )
    refused(moved)
    assert other.get(f"/api/v1/ingestions/{own.json()['id']}").json()["destination"]["table"] == (
        f"{table}_b"
    )
    # The owner's ingestion is as it was, and the owner may add a second one on its table.
    assert owner.get(f"/api/v1/ingestions/{created.json()['id']}").json()["version"] == 1
    second = owner.post("/api/v1/ingestions", json=ingestion_body(place, table))
    assert second.status_code == 201, second.text

    # Shared by an admin (twice: idempotent), the other tenant may; unshared, no longer.
    share = {"catalog": "lake", "namespace": "it_api", "table": table}
    for _ in range(2):
        shared = admin.post(f"/api/v1/tenants/{other_id}/table-shares", json=share)
        assert shared.status_code == 201, shared.text
    assert other.post("/api/v1/ingestions/preview", json=preview).status_code == 202
    joined = other.post("/api/v1/ingestions", json=ingestion_body(place, table))
    assert joined.status_code == 201, joined.text
    gone = admin.delete(f"/api/v1/tenants/{other_id}/table-shares", params=share)
    assert gone.status_code == 204, gone.text
    refused(
        other.patch(f"/api/v1/ingestions/{joined.json()['id']}", json={"batch": {"max_files": 5}})
    )
    # A table no ingestion named is given to a tenant by adoption; then it is closed to others.
    adopted_table = f"legacy_{uuid.uuid4().hex[:6]}"
    adopt = {**share, "table": adopted_table}
    adopted = admin.post(f"/api/v1/tenants/{owner_id}/tables", json=adopt)
    assert adopted.status_code == 201, adopted.text
    assert adopted.json()["tenant_id"] == owner_id
    refused_adopted = other.post("/api/v1/ingestions", json=ingestion_body(place, adopted_table))
    assert refused_adopted.status_code == 422
    # Only an installation admin shares or adopts.
    assert owner.post(f"/api/v1/tenants/{owner_id}/tables", json=adopt).status_code == 403


def test_a_tenants_admin_key_manages_its_own_keys_and_nothing_else(api: ApiProcess) -> None:
    tenant_id, tenant_admin_key = api.tenant(scopes=("admin",))
    other_id, _ = api.tenant(scopes=("write",))
    tenant_admin = api.client(tenant_admin_key)
    installation = api.client(api.admin_key)

    made = tenant_admin.post(
        "/api/v1/api-keys", json={"tenant_id": tenant_id, "name": "ci", "scopes": ["write"]}
    )
    assert made.status_code == 201, made.text
    assert tenant_admin.delete(f"/api/v1/api-keys/{made.json()['id']}").status_code == 204
    # Another tenant's keys: neither made nor revoked (nor shown to exist).
    foreign = tenant_admin.post(
        "/api/v1/api-keys", json={"tenant_id": other_id, "name": "x", "scopes": ["admin"]}
    )
    assert foreign.status_code == 422 and foreign.json()["detail"][0]["loc"] == [
        "body",
        "tenant_id",
    ]
    others = installation.post(
        "/api/v1/api-keys", json={"tenant_id": other_id, "name": "theirs", "scopes": ["read"]}
    )
    assert tenant_admin.delete(f"/api/v1/api-keys/{others.json()['id']}").status_code == 404
    # Tenants, credential grants and tables are the installation's.
    for method, path, body in [
        ("POST", "/api/v1/tenants", {"name": f"t-{uuid.uuid4().hex[:6]}"}),
        ("GET", "/api/v1/tenants", None),
        ("POST", f"/api/v1/tenants/{tenant_id}/credential-grants", {"credential_ref": "default"}),
        ("GET", f"/api/v1/tenants/{tenant_id}/credential-grants", None),
        (
            "POST",
            f"/api/v1/tenants/{tenant_id}/tables",
            {"catalog": "lake", "namespace": "it_api", "table": "mine"},
        ),
    ]:
        answer = tenant_admin.request(method, path, json=body)
        assert answer.status_code == 403, f"{method} {path}: {answer.status_code} {answer.text}"
        assert "installation admin" in answer.json()["detail"]
    assert installation.get("/api/v1/tenants").status_code == 200


def test_a_tenant_past_its_limits_gets_429_and_other_tenants_do_not(
    stack: dict[str, str], place: Place, tmp_path: Path
) -> None:
    env = api_environment(
        stack,
        "it_api_limits",
        AUTOLOADER_TENANT_MAX_INGESTIONS="2",
        AUTOLOADER_TENANT_MAX_RUNS_IN_FLIGHT="2",
        AUTOLOADER_TENANT_MAX_PREVIEWS_IN_FLIGHT="1",
        AUTOLOADER_PREVIEW_WAIT_SECONDS="0",
        AUTOLOADER_SPARK_REMOTE="sc://127.0.0.1:9",
    )
    limited = ApiProcess(env, tmp_path / "api.log")  # no worker: runs stay scheduled
    try:
        _, key = limited.tenant(scopes=("write",))
        _, other_key = limited.tenant(scopes=("write",))
        client, other = limited.client(key), limited.client(other_key)
        ids = []
        for n in range(2):
            created = client.post("/api/v1/ingestions", json=ingestion_body(place, f"lim_{n}"))
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        third = client.post("/api/v1/ingestions", json=ingestion_body(place, "lim_2"))
        assert third.status_code == 429, third.text
        assert "AUTOLOADER_TENANT_MAX_INGESTIONS" in third.json()["detail"]

        for ingestion_id in ids:
            assert client.post(f"/api/v1/ingestions/{ingestion_id}/run").status_code == 202
        storm = client.post(f"/api/v1/ingestions/{ids[0]}/run")
        assert storm.status_code == 429, storm.text
        assert "2 runs in flight" in storm.json()["detail"]

        body = ingestion_body(place, "lim_preview")
        preview = {k: body[k] for k in ("source", "format", "destination")}
        assert other.post("/api/v1/ingestions/preview", json=preview).status_code == 202
        again = other.post("/api/v1/ingestions/preview", json=preview)
        assert again.status_code == 429, again.text
        # The first tenant's limits are its own: the other tenant created and runs freely.
        mine = other.post("/api/v1/ingestions", json=ingestion_body(place, "lim_other"))
        assert mine.status_code == 201, mine.text
    finally:
        limited.stop()


def required_scope(method: str, path: str) -> str:
    if ADMIN_PATHS.match(path):
        return "admin"
    return "read" if method == "GET" else "write"


def test_keys_and_scopes_are_enforced_on_every_endpoint(api: ApiProcess) -> None:
    tenant_id, read_key = api.tenant(scopes=("read",))
    write_key = api.key(tenant_id, ["write"])
    with api.client(api.admin_key) as admin:
        keys = admin.post(
            "/api/v1/api-keys", json={"tenant_id": tenant_id, "name": "gone", "scopes": ["read"]}
        ).json()
        assert admin.delete(f"/api/v1/api-keys/{keys['id']}").status_code == 204
    revoked = keys["key"]
    # A live key's prefix with another secret: found by its prefix, refused on its hash.
    forged = "_".join(read_key.split("_", 2)[:2]) + "_" + "y" * 43
    ids = {
        "ingestion_id": str(uuid.uuid4()),
        "run_id": str(uuid.uuid4()),
        "version": "1",
        "key_id": str(uuid.uuid4()),
        "tenant_id": str(uuid.uuid4()),
        "name": "default",
    }
    for method, template in OPERATIONS:
        path = path_of(template, ids)
        what = f"{method} {template}"
        for key in (None, "al_000000000000_" + "x" * 43, "not-a-key", revoked, forged):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            answer = httpx.request(method, api.base_url + path, headers=headers, timeout=30)
            assert answer.status_code == 401, f"{what} with key {key!r}: {answer.status_code}"
            assert answer.headers.get("WWW-Authenticate") == "Bearer"
        scope = required_scope(method, template)
        too_weak = {"read": [], "write": [read_key], "admin": [read_key, write_key]}[scope]
        for key in too_weak:
            answer = httpx.request(
                method, api.base_url + path, timeout=30, headers={"Authorization": f"Bearer {key}"}
            )
            assert answer.status_code == 403, f"{what} with a weaker key: {answer.status_code}"
            assert scope in answer.json()["detail"]
    # Health, readiness and metrics need no key; the key never shows in them.
    for path in ("/health", "/ready", "/metrics"):
        assert httpx.get(api.base_url + path, timeout=30).status_code == 200
    assert write_key not in httpx.get(api.base_url + "/metrics").text


def test_an_installation_that_refuses_local_sources_says_so_by_field(
    stack: dict[str, str], tmp_path: Path
) -> None:
    env = api_environment(stack, "it_api_reach", AUTOLOADER_ALLOW_LOCAL_SOURCES="false")
    locked = ApiProcess(env, tmp_path / "api.log")
    try:
        _, key = locked.tenant(scopes=("write",))
        body = {
            "name": "local",
            "source": {"uri": "file:///etc"},
            "format": {"type": "text"},
            "destination": {"catalog": "lake", "namespace": "x", "table": "y"},
        }
        answer = locked.client(key).post("/api/v1/ingestions", json=body)
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        assert error["loc"] == ["body", "source", "uri"]
        assert "file:// sources are not allowed" in error["msg"]
        assert locked.client(key).get("/api/v1/ingestions").json()["pagination"]["total"] == 0
    finally:
        locked.stop()


def test_credentials_need_a_grant_where_the_operator_requires_them(
    stack: dict[str, str], place: Place, tmp_path: Path
) -> None:
    env = api_environment(stack, "it_api_grants", AUTOLOADER_REQUIRE_CREDENTIAL_GRANTS="true")
    locked = ApiProcess(env, tmp_path / "api.log")
    try:
        acme_id, acme_key = locked.tenant(scopes=("write",))
        other_id, other_key = locked.tenant(scopes=("write",))
        acme, other = locked.client(acme_key), locked.client(other_key)
        admin = locked.client(locked.admin_key)
        reference = place.credential_ref
        body = ingestion_body(place, "granted")

        # Not granted: refused by field, nothing stored.
        refused = acme.post("/api/v1/ingestions", json=body)
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "source", "credential_ref"]
        assert reference in error["msg"] and "not granted" in error["msg"]
        assert acme.get("/api/v1/ingestions").json()["pagination"]["total"] == 0
        preview = {k: body[k] for k in ("source", "format", "destination")}
        assert acme.post("/api/v1/ingestions/preview", json=preview).status_code == 422

        # An admin grants it to acme (twice: idempotent); acme may use it, the other tenant not.
        url = f"/api/v1/tenants/{acme_id}/credential-grants"
        for _ in range(2):
            granted = admin.post(url, json={"credential_ref": reference})
            assert granted.status_code == 201, granted.text
        assert granted.json()["credential_ref"] == reference
        assert [g["credential_ref"] for g in admin.get(url).json()["items"]] == [reference]
        created = acme.post("/api/v1/ingestions", json=body)
        assert created.status_code == 201, created.text
        assert other.post("/api/v1/ingestions", json=body).status_code == 422
        # anonymous reads only what anyone may: no grant needed.
        public = {
            **body,
            "name": "public",
            "source": {**body["source"], "credential_ref": "anonymous"},
            "destination": {**body["destination"], "table": "public"},
        }
        assert other.post("/api/v1/ingestions", json=public).status_code == 201

        # Revoked: the ingestion can no longer be changed while it names the credential.
        revoked = admin.delete(url, params={"credential_ref": reference})
        assert revoked.status_code == 204, revoked.text
        assert admin.delete(url, params={"credential_ref": reference}).status_code == 404
        patch = acme.patch(
            f"/api/v1/ingestions/{created.json()['id']}", json={"batch": {"max_files": 5}}
        )
        assert patch.status_code == 422, patch.text
        assert patch.json()["detail"][0]["loc"] == ["body", "source", "credential_ref"]

        # An operator turning grants on grants what ingestions already use: a dry run first.
        def grant_existing(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "autoloader_migrate.main", "grant-existing", *args],
                env=locked.env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        tenants = admin.get("/api/v1/tenants").json()["items"]
        acme_name = next(t["name"] for t in tenants if t["id"] == acme_id)
        planned = grant_existing("--dry-run")
        assert f"would grant {reference} to {acme_name}" in planned, planned
        assert "1 grants to make" in planned, planned
        assert admin.get(url).json()["items"] == []
        assert "1 grants made" in grant_existing()
        assert [g["granted_by"] for g in admin.get(url).json()["items"]] == [
            "migrate grant-existing"
        ]
        assert "0 grants made" in grant_existing()
        again = acme.patch(
            f"/api/v1/ingestions/{created.json()['id']}", json={"batch": {"max_files": 5}}
        )
        assert again.status_code == 200, again.text

        # Grants name a tenant that exists, and only admins manage them.
        unknown = f"/api/v1/tenants/{uuid.uuid4()}/credential-grants"
        assert admin.post(unknown, json={"credential_ref": "env:X"}).status_code == 404
        assert admin.post(url, json={"credential_ref": "s3://no"}).status_code == 422
        assert acme.post(url, json={"credential_ref": reference}).status_code == 403
        assert other_id != acme_id
    finally:
        locked.stop()


def test_a_default_credential_is_refused_by_field_unless_the_operator_bound_the_cluster(
    stack: dict[str, str], tmp_path: Path
) -> None:
    bound = json.dumps({"default": ["s3://landing-*"]})
    env = api_environment(stack, "it_api_identity", AUTOLOADER_CLUSTER_IDENTITIES=bound)
    api = ApiProcess(env, tmp_path / "api.log")
    try:
        _, key = api.tenant(scopes=("write",))

        def create(uri: str) -> httpx.Response:
            body = {
                "name": f"d-{uuid.uuid4().hex[:6]}",
                "source": {"uri": uri, "credential_ref": "default"},
                "format": {"type": "csv"},
                "destination": {
                    "catalog": "lake",
                    "namespace": "x",
                    "table": f"t_{uuid.uuid4().hex}",
                },
            }
            return api.client(key).post("/api/v1/ingestions", json=body)

        refused = create("s3://orders-eu/in/")
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["detail"]
        assert error["loc"] == ["body", "source", "credential_ref"]
        assert "has not bound Spark cluster 'default'" in error["msg"]
        assert create("s3://landing-eu/in/").status_code == 201
    finally:
        api.stop()
