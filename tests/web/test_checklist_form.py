"""The indicator-checklist widget at the form level (issue 10): declared by `x-widget` from an
allowlist, its rows built and parsed like array rows, a row counting only when more than its
item code is entered. Pure Python (no database)."""

from werkzeug.datastructures import MultiDict

from webapp.form_schema import classify
from webapp.form_submission import parse_submission
from webapp.forms_render import build_form

ROW = {
    "type": "object",
    "required": ["item_code", "result"],
    "properties": {
        "item_code": {"type": "string"},
        "result": {
            "type": "string",
            "oneOf": [
                {"const": "conform", "title": "符合 Conform"},
                {"const": "nonconform", "title": "不符合 Nonconform"},
            ],
        },
        "sample_size": {"type": ["integer", "null"], "minimum": 1},
    },
}
SCHEMA = {
    "type": "object",
    "required": ["findings"],
    "properties": {
        "findings": {"type": "array", "x-widget": "indicator-checklist", "items": ROW},
    },
}


def test_only_an_allowlisted_widget_changes_the_kind() -> None:
    assert classify(SCHEMA["properties"]["findings"]) == "indicator_checklist"
    other = {**SCHEMA["properties"]["findings"], "x-widget": "script-runner"}
    assert classify(other) == "object_array"


def test_rows_with_only_their_item_code_are_not_sent() -> None:
    form = MultiDict(
        {
            "f/findings/0/item_code": "5.1.1.1",
            "f/findings/1/item_code": "5.1.1.2",
            "f/findings/1/result": "nonconform",
            "f/findings/2/item_code": "5.1.1.3",
            "f/findings/2/sample_size": "4",
        }
    )
    submission = parse_submission(SCHEMA, form)
    assert submission.data["findings"] == [
        {"item_code": "5.1.1.2", "result": "nonconform", "sample_size": None},
        {"item_code": "5.1.1.3", "sample_size": 4},
    ]
    assert submission.errors == {}


def test_an_empty_checklist_is_an_empty_list() -> None:
    form = MultiDict({"f/findings/0/item_code": "5.1.1.1"})
    assert parse_submission(SCHEMA, form).data == {"findings": []}


def test_the_field_has_its_rows_and_no_spare_row_and_options_as_words() -> None:
    values = {"findings": [{"item_code": "5.1.1.2", "result": "conform"}]}
    errors = {"findings/0/result": ["R-3: not this one"]}
    form = build_form(SCHEMA, values, errors)
    (field,) = form.fields
    assert field.kind == "indicator_checklist"
    assert len(field.rows) == 1  # no spare row: the widget adds one per item
    result = next(f for f in field.rows[0].fields if f.path[-1] == "result")
    assert result.errors == ["R-3: not this one"] and form.errors == []
    assert [o.label for o in result.options] == ["符合 Conform", "不符合 Nonconform"]
    assert field.template is not None
