from pathlib import Path

from autoloader_cli.plan import FieldChange, differences, patch_of, plan_step
from autoloader_cli.specs import SpecDocument


def document() -> SpecDocument:
    return SpecDocument(Path("a.yaml"), 1, "orders", {}, {})


def test_differences_are_leaf_by_leaf_and_options_compare_whole() -> None:
    old = {"format": {"type": "csv", "options": {"sep": ";", "header": "true"}}, "cluster": "a"}
    new = {"format": {"type": "csv", "options": {"sep": ","}}, "cluster": "a"}
    assert differences(old, new, "spec") == [
        FieldChange("spec.format.options", {"sep": ";", "header": "true"}, {"sep": ","})
    ]
    assert differences({"a": {"b": 1}}, {"a": {"b": 1}}, "x") == []


def test_a_change_is_patched_with_only_what_changed_against_the_planned_version() -> None:
    current = {
        "id": "i",
        "version": 7,
        "source": {"uri": "s3://a/", "retain_seconds": 0},
        "schedule": {"cron": "*/15 * * * *", "timezone": "UTC"},
        "labels": {"team": "sales"},
    }
    wanted = {
        "source": {"uri": "s3://a/", "retain_seconds": 60},
        "schedule": {"cron": "*/15 * * * *", "timezone": "UTC"},
        "labels": {},
        "paused": True,  # a create's choice only: pause and resume change it
    }
    step = plan_step(document(), wanted, current)
    assert step.action == "change" and step.version == 7
    assert [c.field for c in step.changes] == ["source.retain_seconds", "labels"]
    assert step.body == {"source": {"retain_seconds": 60}, "labels": {}}
    assert plan_step(document(), current, current).action == "none"
    assert plan_step(document(), wanted, None).action == "create"


def test_a_patch_nests_the_changed_fields() -> None:
    changes = [FieldChange("a.b.c", 1, 2), FieldChange("a.d", None, "x")]
    assert patch_of(changes) == {"a": {"b": {"c": 2}, "d": "x"}}
