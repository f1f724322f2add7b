"""`apply` and `diff`: check every document with the API, plan against the server, carry out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from autoloader_cli.client import Api, ApiError, ValidationFailed
from autoloader_cli.output import err
from autoloader_cli.plan import Plan, Step, plan_step
from autoloader_cli.specs import APPLY_SET_LABEL, SpecDocument
from rich.markup import escape


def set_of(path: Path, given: str | None, prune: bool) -> str | None:
    """The set's name: as given, or with --prune the path's name (`specs` for specs/)."""
    if given or not prune:
        return given
    resolved = path.resolve()
    return resolved.name if resolved.is_dir() else resolved.stem


def plan(client: Api, documents: list[SpecDocument], apply_set: str | None, prune: bool) -> Plan:
    """The plan for the documents; exits 2 (nothing changed) when the API refuses any one."""
    existing = {item["name"]: item for item in client.ingestions()}
    checked: list[tuple[SpecDocument, dict[str, Any]]] = []
    invalid = 0
    for document in documents:
        # Without a set of its own, an apply keeps the set label an earlier one put there.
        label = apply_set or (existing.get(document.name, {}).get("labels") or {}).get(
            APPLY_SET_LABEL
        )
        try:
            checked.append(
                (document, client.post("/api/v1/ingestions/validate", document.body(label)))
            )
        except ValidationFailed as error:
            invalid += 1
            report_invalid(document, error)
    if invalid:
        err.print(f"{invalid} of {len(documents)} documents are invalid; nothing was changed")
        raise typer.Exit(2)
    steps = []
    for document, check in checked:
        current = client.get(f"/api/v1/ingestions/{check['id']}") if check["id"] else None
        steps.append(plan_step(document, check["spec"], current))
    if prune:
        if apply_set is None:
            raise AssertionError("--prune always has a set")
        wanted = {document.name for document in documents}
        steps.extend(
            Step("delete", item["name"], item["id"])
            for item in existing.values()
            if (item.get("labels") or {}).get(APPLY_SET_LABEL) == apply_set
            and item["name"] not in wanted
        )
    return Plan(steps)


def report_invalid(document: SpecDocument, error: ValidationFailed, offset: int = 0) -> None:
    """Each of the API's field errors, at the file's line for that field."""
    for item in error.errors or [{"loc": [], "msg": str(error.detail)}]:
        loc = [str(p) for p in item.get("loc", [])][offset:]
        field = ".".join(p for p in loc if p != "body") or "(document)"
        line = document.line_of(loc)
        where = document.where if line is None else document.where_line(line)
        message = f"{where}: {field}: {item.get('msg')}"
        err.print(f"[red]invalid:[/] {escape(message)}")


def execute(client: Api, plan: Plan) -> list[str]:
    """Carries out the plan's steps in order; a change applies only to the version planned
    against (If-Match), so an edit made meanwhile is not overwritten unseen."""
    done: list[str] = []
    for step in plan.pending:
        try:
            done.append(_carry_out(client, step))
        except ApiError as error:
            if error.status == 412:
                error.detail = (
                    f"{step.name} changed on the server since the plan was made; run apply again"
                )
            for message in done:
                err.print(message)
            raise
    return done


def _carry_out(client: Api, step: Step) -> str:
    if step.action == "create":
        created = client.post("/api/v1/ingestions", step.body)
        return f"created {created['name']} ({created['id']})"
    if step.action == "delete":
        client.call("DELETE", f"/api/v1/ingestions/{step.ingestion_id}")
        return f"deleted {step.name}"
    client.call(
        "PATCH",
        f"/api/v1/ingestions/{step.ingestion_id}",
        json=step.body,
        headers={"If-Match": f'"{step.version}"'},
    )
    return f"changed {step.name}: {', '.join(c.field for c in step.changes)}"
