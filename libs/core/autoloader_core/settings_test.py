from typing import Any

import pytest

from autoloader_core.settings import Settings


@pytest.mark.parametrize(
    ("environment", "setting", "required"),
    [
        ("production", None, True),
        ("local", None, False),
        ("test", None, False),
        ("local", True, True),
        ("production", False, False),
    ],
)
def test_credential_grants_are_required_in_production_unless_the_operator_says(
    environment: str, setting: bool | None, required: bool
) -> None:
    values: dict[str, Any] = {"environment": environment, "require_credential_grants": setting}
    settings = Settings(**values)
    assert settings.credential_grants_required is required
