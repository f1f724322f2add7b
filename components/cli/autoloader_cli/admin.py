"""`autoloader admin`: tenants, API keys and credential grants (an admin key's work)."""

from __future__ import annotations

from typing import Annotated

import typer
from autoloader_cli.context import api
from autoloader_cli.output import Output, emit, out

app = typer.Typer(
    help="Tenants, API keys and credential grants (admin keys).", no_args_is_help=True
)
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table, json or yaml.")]


@app.command("tenants")
def tenants(output: OutputOption = Output.TABLE) -> None:
    """The tenants this key may manage."""
    with api() as client:
        items = list(client.pages("/api/v1/tenants"))
        emit(items, output, [("ID", lambda t: t["id"]), ("NAME", lambda t: t["name"])])


@app.command("create-tenant")
def create_tenant(name: str, output: OutputOption = Output.TABLE) -> None:
    with api() as client:
        emit(client.post("/api/v1/tenants", {"name": name}), output)


@app.command("create-key")
def create_key(
    tenant_id: str,
    name: str,
    scope: Annotated[list[str], typer.Option(help="read, write or admin (repeatable).")],
) -> None:
    """A new key; printed once, here, and stored only as a hash."""
    with api() as client:
        created = client.post(
            "/api/v1/api-keys", {"tenant_id": tenant_id, "name": name, "scopes": scope}
        )
    out.print(f"key {created['id']} ({name}); the key, shown only now:")
    print(created["key"])


@app.command("revoke-key")
def revoke_key(key_id: str) -> None:
    with api() as client:
        client.call("DELETE", f"/api/v1/api-keys/{key_id}")
    out.print(f"revoked {key_id}")


@app.command("grants")
def grants(tenant_id: str, output: OutputOption = Output.TABLE) -> None:
    """The credential references a tenant's ingestions may name."""
    with api() as client:
        items = list(client.pages(f"/api/v1/tenants/{tenant_id}/credential-grants"))
        emit(
            items,
            output,
            [("CREDENTIAL", lambda g: g["credential_ref"]), ("BY", lambda g: g["granted_by"])],
        )


@app.command("grant")
def grant(tenant_id: str, credential_ref: str) -> None:
    with api() as client:
        client.post(
            f"/api/v1/tenants/{tenant_id}/credential-grants", {"credential_ref": credential_ref}
        )
    out.print(f"granted {credential_ref} to {tenant_id}")
