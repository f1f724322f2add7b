"""The settings reference (docs/configuration.md), generated from the Settings model so that
it cannot drift: `./pants run libs/core/autoloader_core/reference.py > docs/configuration.md`;
a test fails while the file differs from what this prints."""

from __future__ import annotations

import json
from typing import Any

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from autoloader_core.settings import Settings

HEADER = """# Configuration

Every setting Autoloader's processes read (api, workers and their flow runs, migrate), as
environment variables. Generated from `autoloader_core.settings.Settings`; do not edit by hand
(`./pants run libs/core/autoloader_core/reference.py > docs/configuration.md`).

| variable | default | meaning |
|---|---|---|
"""


def _names(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return " or ".join(f"`{choice}`" for choice in alias.choices)
    return f"`AUTOLOADER_{name.upper()}`"


def _default(field: FieldInfo) -> str:
    value: Any = field.default
    if value is PydanticUndefined and field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    if value is None:
        return "unset"
    if hasattr(value, "get_secret_value"):  # a default holds no password
        return f"`{value.get_secret_value()}`"
    if isinstance(value, dict | list):
        return f"`{json.dumps(value)}`"
    if value == "":
        return "empty"
    return f"`{value}`"


def reference() -> str:
    rows = [
        f"| {_names(name, field)} | {_default(field)} | "
        f"{(field.description or '').replace('|', '/')} |"
        for name, field in Settings.model_fields.items()
    ]
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
