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
