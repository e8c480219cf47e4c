"""Issue 16: the case and task pages build only the forms that may hold files. The schema walk
(webapp/form_attachments.py) must never miss a form whose built fields hold an attachment."""

import json
import re

import pytest

from tests.paths import ROOT
from webapp import forms_render
from webapp.form_attachments import may_hold_attachments

FORMS = sorted((ROOT / "processes" / "forms").glob("*.json"))


def attachment_fields(schema: dict) -> list[str]:
    form = forms_render.build_form(schema, {}, {})
    return [f.kind for f in form.walk() if f.kind in ("attachment", "attachment_array")]


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_a_form_with_file_fields_is_never_skipped(path):
    text = path.read_text(encoding="utf-8")
    schema = json.loads(text)
    # Conservative: a file field behind a condition or in a row counts even when not built.
    assert may_hold_attachments(schema) or not attachment_fields(schema)
    assert may_hold_attachments(schema) == bool(re.search(r'"format":\s*"attachment"', text))


def test_the_walk_reads_nested_and_referenced_schemas():
    nested = {"properties": {"rows": {"type": "array", "items": {"$ref": "#/$defs/row"}}}}
    assert not may_hold_attachments(nested)
    nested["$defs"] = {"row": {"properties": {"file": {"type": "integer", "format": "attachment"}}}}
    assert may_hold_attachments(nested)


# -- the plan of where files sit in a form's data (issue 16) --------------------------------------
WEB_FORMS = sorted((ROOT / "tests" / "fixtures" / "web_forms").glob("**/*.json"))


def filled(schema: dict, root: dict, counter: list[int], depth: int = 0):
    """Data for every field of the schema, a fresh id in every file field (two rows per array),
    and noise the page must not take for a file (ids as text, booleans)."""
    from webapp.form_schema import classify, resolve

    kind = classify(schema, root)
    if depth > 12:
        return None
    if kind == "attachment":
        counter[0] += 1
        return counter[0]
    if kind == "attachment_array":
        counter[0] += 2
        return [counter[0] - 1, counter[0], "7", True]
    if kind == "object":
        return {
            name: filled(resolve(sub, root), root, counter, depth + 1)
            for name, sub in (schema.get("properties") or {}).items()
            if isinstance(sub, dict)
        }
    if kind in ("object_array", "indicator_checklist"):
        items = resolve(schema.get("items", {}), root)
        return [
            {
                name: filled(resolve(sub, root), root, counter, depth + 2)
                for name, sub in (items.get("properties") or {}).items()
                if isinstance(sub, dict)
            }
            for _ in range(2)
        ]
    if kind == "scalar_array":
        items = resolve(schema.get("items", {}), root)
        return [filled(items, root, counter, depth + 1) for _ in range(2)]
    return "12"


@pytest.mark.parametrize("path", FORMS + WEB_FORMS, ids=lambda p: p.name)
def test_the_plan_names_the_files_the_built_form_names(path):
    from webapp.form_attachments import attachment_plan, collect_ids

    schema = json.loads(path.read_text(encoding="utf-8"))
    data = filled(schema, schema, [0])
    expected = forms_render.build_form(schema, data, spare_rows=0).attachment_ids()
    plan = attachment_plan(schema)
    found: set[int] = set()
    if plan is not None:
        collect_ids(plan, data, found)
    assert found == expected
    if may_hold_attachments(schema) and attachment_fields(schema):
        assert expected  # the data generator reached the file fields


def test_the_plan_follows_references_rows_and_objects():
    from webapp.form_attachments import attachment_plan, collect_ids

    schema = {
        "type": "object",
        "$defs": {"file": {"type": "integer", "format": "attachment"}},
        "properties": {
            "one": {"$ref": "#/$defs/file"},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"$ref": "#/$defs/file"}},
                        "inner": {"type": "object", "properties": {"f": {"$ref": "#/$defs/file"}}},
                    },
                },
            },
            "name": {"type": "string"},
        },
    }
    data = {
        "one": 1,
        "rows": [{"files": [2, 3], "inner": {"f": 4}}, {"files": None, "inner": 5}],
        "name": 6,
    }
    found: set[int] = set()
    collect_ids(attachment_plan(schema), data, found)
    assert found == {1, 2, 3, 4} == forms_render.build_form(schema, data).attachment_ids()
