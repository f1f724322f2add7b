"""What applying a set of specs would do: create what is missing, change what differs (field by
field), delete (with --prune) what the set manages and no longer holds, leave the rest alone.

The wanted side is the spec as the API read it (`POST /ingestions/validate`: every default
filled in), so a field left out of a file and the API's default for it are not a difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from autoloader_cli.specs import SPEC_FIELDS, SpecDocument

WHOLE = ("options", "labels", "properties")  # objects a change replaces whole

Action = Literal["create", "change", "delete", "none"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class Step:
    action: Action
    name: str
    ingestion_id: str | None = None
    document: SpecDocument | None = None
    version: int | None = None  # of the ingestion the change was planned against
    body: dict[str, Any] = field(default_factory=dict)  # the create body, or the patch
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class Plan:
    steps: list[Step]

    @property
    def pending(self) -> list[Step]:
        return [step for step in self.steps if step.action != "none"]

    def lines(self) -> list[str]:
        if not self.pending:
            return ["nothing to do: every ingestion is as its spec says"]
        out: list[str] = []
        for step in self.pending:
            if step.action == "create":
                out.append(f"+ create {step.name}")
            elif step.action == "delete":
                out.append(f"- delete {step.name}")
            else:
                out.append(f"~ change {step.name}")
                out.extend(
                    f"    ~ {c.field}: {_shown(c.old)} → {_shown(c.new)}" for c in step.changes
                )
        counts = {a: sum(s.action == a for s in self.steps) for a in ("create", "change", "delete")}
        out.append(
            f"plan: {counts['create']} to create, {counts['change']} to change, "
            f"{counts['delete']} to delete"
        )
        return out


def plan_step(
    document: SpecDocument, wanted: dict[str, Any], current: dict[str, Any] | None
) -> Step:
    """`wanted` is the spec as the API read it; `current` the ingestion of that name, if any."""
    if current is None:
        return Step(
            "create", document.name, document=document, body=document_body(document, wanted)
        )
    changes = [
        change
        for key in SPEC_FIELDS
        for change in differences(current.get(key), wanted.get(key), key)
    ]
    if not changes:
        return Step("none", document.name, current["id"], document)
    return Step(
        "change",
        document.name,
        current["id"],
        document,
        version=current["version"],
        body=patch_of(changes),
        changes=changes,
    )


def document_body(document: SpecDocument, wanted: dict[str, Any]) -> dict[str, Any]:
    return {**wanted, "name": document.name}


def differences(old: Any, new: Any, path: str) -> list[FieldChange]:
    """Leaf by leaf; objects replaced whole (options, labels, properties) compare whole."""
    leaf = path.rsplit(".", 1)[-1]
    if isinstance(old, dict) and isinstance(new, dict) and leaf not in WHOLE:
        return [
            change
            for key in sorted(set(old) | set(new))
            for change in differences(old.get(key), new.get(key), f"{path}.{key}")
        ]
    return [] if old == new else [FieldChange(path, old, new)]


def patch_of(changes: list[FieldChange]) -> dict[str, Any]:
    """A PATCH body holding only what changed (the API merges nested objects)."""
    patch: dict[str, Any] = {}
    for change in changes:
        parts = change.field.split(".")
        target = patch
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = change.new
    return patch


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value if value else '""'
    import json

    return json.dumps(value, sort_keys=True)
