from pathlib import Path

from autoloader_core.reference import reference
from autoloader_core.settings import Settings


def test_the_configuration_reference_is_current() -> None:
    written = Path("docs/configuration.md").read_text()
    assert written == reference(), (
        "docs/configuration.md is out of date: "
        "./pants run libs/core/autoloader_core/reference.py > docs/configuration.md"
    )


def test_every_setting_has_a_description() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert not missing
