"""webapp.forms_render without Flask or a database: JSON Schema → fields, submitted form → data."""

import json

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from engine.forms import validate_form_data
from tests.paths import FIXTURES, PROCESSES
from webapp.form_schema import (
    MSG_CHOICE,
    MSG_FILE_UNKNOWN,
    MSG_INTEGER,
    MSG_NUMBER,
    attachment_kind,
    classify,
)
from webapp.form_submission import merge_errors, parse_submission
from webapp.forms_render import build_form, initial_values

KITCHEN = json.loads((FIXTURES / "web_forms" / "forms" / "kitchen.json").read_text())
PROCESS_FORMS = sorted((PROCESSES / "forms").glob("*.json"))


def kinds(form) -> dict[str, str]:
    return {f.key: f.kind for f in form.walk()}


def upload(name: str = "a.pdf", content: bytes = b"%PDF-1.4 test") -> FileStorage:
    from io import BytesIO

    return FileStorage(BytesIO(content), filename=name, content_type="application/pdf")


# -- classification and the field tree ------------------------------------------------------------
def test_every_field_kind_is_recognised():
    form = build_form(KITCHEN, {})
    assert kinds(form) == {
        "title": "text",
        "notes": "textarea",
        "count": "integer",
        "ratio": "number",
        "agree": "checkbox",
        "confirmed": "confirm",
        "level": "radio",
        "city": "select",
        "visit_on": "date",
        "email": "email",
        "remark": "text",
        "contact": "object",
        "contact/name": "text",
        "contact/phone": "text",
        "sites": "object_array",
        "sites/0/name": "text",
        "sites/0/fixed": "checkbox",
        "tags": "scalar_array",
        "tags/0": "text",
        "channels": "choice_array",
        "evidence_file": "attachment",
        "more_files": "attachment_array",
    }


def test_titles_descriptions_required_and_options_come_from_the_schema():
    fields = {f.key: f for f in build_form(KITCHEN, {}).walk()}
    assert fields["title"].title == "标题 Title"
    assert fields["title"].description == "简短 Short"
    assert fields["title"].required and not fields["notes"].required
    assert fields["contact/name"].required and not fields["contact/phone"].required
    assert [(o.key, o.label, o.value) for o in fields["level"].options] == [
        ("1", "一级 One", 1),
        ("2", "二级 Two", 2),
        ("3", "三级 Three", 3),
    ]
    assert len(fields["city"].options) == 7
    assert [o.value for o in fields["channels"].options] == ["phone", "web", "store"]
    assert fields["remark"].nullable and not fields["title"].nullable
    assert fields["title"].attrs == {"maxlength": "100"}
    assert fields["count"].attrs["min"] == "1"
    assert fields["ratio"].attrs == {"max": "1", "step": "any"}
    assert fields["sites/0/name"].name == "f/sites/0/name"
    assert fields["sites/0/name"].html_id == "f-sites-0-name"


def test_nullable_types_and_other_shapes():
    assert classify({"type": ["integer", "null"]}) == "integer"
    assert classify({"type": ["boolean", "null"]}) == "tristate"
    assert classify({"enum": ["a", "b", None]}) == "radio"
    assert classify({"type": ["string", "integer"]}) == "json"
    assert classify({"type": "array", "items": {"type": "array"}}) == "json"
    assert classify({"type": "array", "items": {"type": "integer"}}) == "scalar_array"
    assert classify({"type": ["object", "null"], "properties": {}}) == "object"
    resolved = build_form(
        {
            "$defs": {"day": {"type": "string", "format": "date", "title": "Day"}},
            "properties": {"when": {"$ref": "#/$defs/day"}},
        }
    )
    assert kinds(resolved) == {"when": "date"}


def test_arrays_render_their_rows_a_spare_row_and_a_template():
    form = build_form(KITCHEN, {"sites": [{"name": "HQ", "fixed": True}], "tags": ["a", "b"]})
    fields = {f.key: f for f in form.fields}
    sites = fields["sites"]
    assert [row.index for row in sites.rows] == [0, 1]  # the value and one spare row
    assert sites.rows[0].fields[0].value == "HQ"
    assert sites.rows[1].fields[0].value is None
    assert sites.template is not None and sites.template.index == "__i1__"
    assert sites.template.fields[0].name == "f/sites/__i1__/name"
    assert [r.fields[0].value for r in fields["tags"].rows] == ["a", "b", None]
    empty = {f.key: f for f in build_form(KITCHEN, {}, spare_rows=0).fields}
    assert len(empty["sites"].rows) == 1  # minItems 1


def test_a_form_shown_again_after_a_422_keeps_exactly_the_rows_sent():
    # Issue 10: no extra empty row appears after a refused submission; an empty array still
    # gets its one row to fill in.
    sent = {"sites": [{"name": "HQ", "fixed": True}], "tags": ["a"]}
    form = build_form(KITCHEN, sent, {"title": ["required"]}, resubmitted=True)
    fields = {f.key: f for f in form.fields}
    assert [row.index for row in fields["sites"].rows] == [0]
    assert [row.index for row in fields["tags"].rows] == [0]
    nothing = {f.key: f for f in build_form(KITCHEN, {}, resubmitted=True).fields}
    assert [row.index for row in nothing["tags"].rows] == [0]


def test_the_red_star_marks_only_what_must_be_filled_in():
    # Issue 10: "required" in a schema whose value may be null (or an array that may be empty)
    # only means the key is always sent; such a field is optional for the person.
    schema = {
        "type": "object",
        "required": ["name", "note", "files", "rows", "section"],
        "properties": {
            "name": {"type": "string"},
            "note": {"type": ["string", "null"]},
            "files": {"type": "array", "items": {"type": "integer", "format": "attachment"}},
            "rows": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["day", "remark"],
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "remark": {"type": ["string", "null"]},
                    },
                },
            },
            "section": {
                "type": ["object", "null"],
                "required": ["score"],
                "properties": {"score": {"type": "integer"}, "memo": {"type": "string"}},
            },
            "extra": {"type": "string"},
        },
    }
    fields = {f.key: f for f in build_form(schema, {}).walk()}
    mandatory = {key for key, f in fields.items() if f.mandatory}
    assert mandatory == {"name", "rows", "rows/0/day", "section/score"}


def test_errors_are_attached_to_their_fields_and_the_rest_is_form_level():
    form = build_form(
        KITCHEN,
        {"sites": [{"name": ""}]},
        {
            "title": ["required"],
            "sites/0/name": ["too short"],
            "sites": ["too few"],
            "_form": ["Additional properties are not allowed ('x' was unexpected)"],
            "ghost/field": ["odd"],
        },
    )
    fields = {f.key: f for f in form.walk()}
    assert fields["title"].errors == ["required"]
    assert fields["sites/0/name"].errors == ["too short"]
    assert fields["sites"].errors == ["too few"]
    assert form.errors == [
        ("", ["Additional properties are not allowed ('x' was unexpected)"]),
        ("ghost/field", ["odd"]),
    ]
    assert form.has_errors


def test_display_values():
    fields = {
        f.key: f
        for f in build_form(
            KITCHEN, {"count": 3, "ratio": 2.0, "level": 2, "city": "Xiamen"}
        ).walk()
    }
    assert fields["count"].text == "3"
    assert fields["ratio"].text == "2"
    level = fields["level"]
    assert [level.selected(o) for o in level.options] == [False, True, False]
    assert [o.key for o in fields["city"].options if fields["city"].selected(o)] == ["Xiamen"]
    raw = {f.key: f for f in build_form(KITCHEN, {"level": "2"}).walk()}["level"]
    assert [raw.selected(o) for o in raw.options] == [False, True, False]  # re-shown input


def test_initial_values_take_only_what_the_form_declares():
    # Issue 10: a new task starts empty except for the form's defaults and explicit prefills;
    # task data of the same name (the previous round's answers) is never carried in.
    schema = {
        "properties": {
            "a": {"type": "array", "default": []},
            "b": {"type": "string", "default": "x"},
            "c": {"type": "string"},
            "more_days": {"type": "boolean"},
            "reason": {"type": "string", "x-prefill-from": "notice_reason"},
        }
    }
    data = {"b": "last round", "c": "last round", "more_days": True, "notice_reason": "d"}
    assert initial_values(schema, data) == {"a": [], "b": "x", "reason": "d"}
    assert initial_values(schema, {"notice_reason": None}) == {"a": [], "b": "x"}


# -- parsing --------------------------------------------------------------------------------------
def full_form() -> MultiDict:
    return MultiDict(
        [
            ("f/title", "  Hello  "),
            ("f/notes", "line 1\r\nline 2"),
            ("f/count", "3"),
            ("f/ratio", "0.25"),
            ("f/agree", "1"),
            ("f/confirmed", "1"),
            ("f/level", "2"),
            ("f/city", "Fuzhou"),
            ("f/visit_on", "2026-02-01"),
            ("f/email", "a@example.cn"),
            ("f/remark", ""),
            ("f/contact/name", "王芳"),
            ("f/contact/phone", ""),
            ("f/sites/0/__row", "1"),
            ("f/sites/0/name", "HQ"),
            ("f/sites/0/fixed", "1"),
            ("f/sites/1/__row", "1"),  # the spare row, left empty
            ("f/sites/1/name", ""),
            ("f/sites/5/__row", "1"),  # a row added in the browser
            ("f/sites/5/name", "Outlet"),
            ("f/tags/0/__row", "1"),
            ("f/tags/0", "x"),
            ("f/tags/1/__row", "1"),
            ("f/tags/1", ""),
            ("f/channels", "web"),
            ("f/channels", "phone"),
            ("f/evidence_file/__keep", "7"),
        ]
    )


def test_a_complete_submission_becomes_json_typed_data():
    submission = parse_submission(KITCHEN, full_form(), MultiDict())
    assert submission.errors == {}
    assert submission.data == {
        "title": "Hello",
        "notes": "line 1\nline 2",
        "count": 3,
        "ratio": 0.25,
        "agree": True,
        "confirmed": True,
        "level": 2,
        "city": "Fuzhou",
        "visit_on": "2026-02-01",
        "email": "a@example.cn",
        "remark": None,  # ["string", "null"]: empty is null
        "contact": {"name": "王芳"},
        "sites": [{"name": "HQ", "fixed": True}, {"name": "Outlet", "fixed": False}],
        "tags": ["x"],
        "channels": ["phone", "web"],  # in the schema's order
        "evidence_file": 7,
    }
    assert validate_form_data(KITCHEN, submission.data) == {}


def test_unchecked_boxes_are_false_and_empty_optional_fields_are_left_out():
    submission = parse_submission(KITCHEN, MultiDict([("f/title", "T")]))
    assert submission.data == {
        "title": "T",
        "agree": False,
        "confirmed": False,
        "remark": None,
        "sites": [],
    }
    errors = validate_form_data(KITCHEN, submission.data)
    assert errors["confirmed"] == ["True was expected"]
    assert errors["count"] == ["required"] and errors["level"] == ["required"]
    assert "sites" in errors  # minItems


def test_bad_numbers_and_choices_are_errors_and_the_input_is_kept():
    form = MultiDict(
        [("f/count", "3.5"), ("f/ratio", "abc"), ("f/level", "9"), ("f/channels", "fax")]
    )
    submission = parse_submission(KITCHEN, form)
    assert submission.errors == {
        "count": [MSG_INTEGER],
        "ratio": [MSG_NUMBER],
        "level": [MSG_CHOICE],
        "channels": [MSG_CHOICE],
    }
    assert "count" not in submission.data and "ratio" not in submission.data
    assert submission.values["count"] == "3.5"
    assert submission.values["ratio"] == "abc"
    assert submission.values["level"] == "9"
    for text, value in (("4.0", 4), ("-2", -2), ("1e3", 1000)):
        parsed = parse_submission(KITCHEN, MultiDict([("f/count", text)]))
        assert parsed.data["count"] == value, text
    for text in ("nan", "inf", "1e999", "0x10", "1,5"):
        assert parse_submission(KITCHEN, MultiDict([("f/ratio", text)])).errors, text


def test_rows_marked_for_removal_or_blank_are_dropped_and_errors_follow_the_new_index():
    form = MultiDict(
        [
            ("f/sites/0/__row", "1"),
            ("f/sites/0/name", "Gone"),
            ("f/sites/0/__remove", "1"),
            ("f/sites/3/__row", "1"),
            ("f/sites/3/fixed", "1"),  # name missing: an error of row 0 after renumbering
        ]
    )
    submission = parse_submission(KITCHEN, form)
    assert submission.data["sites"] == [{"fixed": True}]
    assert submission.values["sites"] == [{"name": None, "fixed": True}]
    bad = parse_submission(
        KITCHEN,
        MultiDict([("f/tags/4/__row", "1"), ("f/tags/4", "x"), ("f/count", "y")]),
    )
    assert bad.data["tags"] == ["x"]
    scalar_rows = {
        "type": "object",
        "properties": {"n": {"type": "array", "items": {"type": "integer"}}},
    }
    parsed = parse_submission(scalar_rows, MultiDict([("f/n/2", "1"), ("f/n/7", "zz")]))
    assert parsed.errors == {"n/1": [MSG_INTEGER]}
    assert parsed.values["n"] == [1, "zz"]


def test_nullable_object_is_null_unless_filled_in():
    schema = {
        "type": "object",
        "required": ["survey"],
        "properties": {
            "survey": {
                "type": ["object", "null"],
                "properties": {"size": {"type": "integer"}},
            }
        },
    }
    assert parse_submission(schema, MultiDict([("f/survey/size", "5")])).data == {"survey": None}
    filled = parse_submission(
        schema, MultiDict([("f/survey/__present", "1"), ("f/survey/size", "5")])
    )
    assert filled.data == {"survey": {"size": 5}}
    form = build_form(schema, {"survey": None})
    assert form.fields[0].present is False


def test_nullable_boolean_and_json_fallback():
    schema = {
        "type": "object",
        "properties": {
            "flag": {"type": ["boolean", "null"]},
            "blob": {"type": ["string", "integer"]},
        },
    }
    assert parse_submission(schema, MultiDict([("f/flag", "")])).data == {"flag": None}
    assert parse_submission(schema, MultiDict([("f/flag", "false")])).data == {"flag": False}
    assert parse_submission(schema, MultiDict([("f/blob", "12")])).data == {
        "flag": None,
        "blob": 12,
    }
    bad = parse_submission(schema, MultiDict([("f/blob", "{oops")]))
    assert list(bad.errors) == ["blob"]


def test_uploads_are_stored_through_the_callback_and_kept_ids_are_checked():
    stored = []

    def store(field, file):
        stored.append((field.key, file.filename, file.read()))
        if file.filename.endswith(".exe"):
            raise ValueError("refused")
        return 40 + len(stored)

    form = MultiDict(
        [
            ("f/more_files/__keep", "3"),
            ("f/more_files/__keep", "99"),  # not the user's: refused
            ("f/more_files/__keep", "x"),
        ]
    )
    files = MultiDict(
        [
            ("f/evidence_file", upload("proof.pdf")),
            ("f/more_files", upload("one.pdf")),
            ("f/more_files", upload("bad.exe")),
            ("f/more_files", FileStorage(filename="")),  # an empty file input
        ]
    )
    submission = parse_submission(
        KITCHEN, form, files, store_file=store, attachment_ok=lambda i: i != 99
    )
    assert stored == [
        ("evidence_file", "proof.pdf", b"%PDF-1.4 test"),
        ("more_files", "one.pdf", b"%PDF-1.4 test"),
        ("more_files", "bad.exe", b"%PDF-1.4 test"),
    ]
    assert submission.data["evidence_file"] == 41
    assert submission.data["more_files"] == [3, 42]
    assert submission.errors == {"more_files": [MSG_FILE_UNKNOWN, MSG_FILE_UNKNOWN, "refused"]}
    assert build_form(KITCHEN, submission.values).attachment_ids() == {3, 41, 42}


def test_a_new_upload_replaces_the_kept_file():
    files = MultiDict([("f/evidence_file", upload())])
    form = MultiDict([("f/evidence_file/__keep", "5")])
    submission = parse_submission(KITCHEN, form, files, store_file=lambda f, u: 77)
    assert submission.data["evidence_file"] == 77
    kept = parse_submission(KITCHEN, form, MultiDict(), store_file=lambda f, u: 77)
    assert kept.data["evidence_file"] == 5


def test_plain_dicts_work_as_input():
    submission = parse_submission(KITCHEN, {"f/title": ["x"], "f/count": "2"})
    assert submission.data["title"] == "x" and submission.data["count"] == 2


def test_attachment_kind_from_the_field_name():
    kinds_known = {"legal_status", "service_documents", "other_certificates", "other"}
    assert attachment_kind("legal_status_file", {}, kinds_known) == "legal_status"
    assert attachment_kind("service_documents_files", {}, kinds_known) == "service_documents"
    assert attachment_kind("other_certificate_files", {}, kinds_known) == "other_certificates"
    assert attachment_kind("revised_files", {}, kinds_known) == "other"
    assert attachment_kind("x", {"x-attachment-kind": "legal_status"}, kinds_known) == (
        "legal_status"
    )


def test_merge_errors_keeps_each_message_once():
    assert merge_errors({"a": ["x"]}, {"a": ["x", "y"], "b": ["z"]}) == {
        "a": ["x", "y"],
        "b": ["z"],
    }


@pytest.mark.parametrize("path", PROCESS_FORMS, ids=lambda p: p.name)
def test_every_form_of_the_processes_renders_and_parses(path):
    """No deployed form falls back to raw JSON input, and an empty submission parses."""
    schema = json.loads(path.read_text())
    form = build_form(schema, {})
    assert form.fields
    assert "json" not in {f.kind for f in form.walk()}, kinds(form)
    submission = parse_submission(schema, MultiDict())
    assert submission.errors == {}


# -- choices from data (issue 10) -----------------------------------------------------------------
def test_choices_from_data_are_a_select_or_checkboxes_with_refused_options_disabled():
    """webapp.form_options puts the resolved options into oneOf and the refused ones into
    x-unavailable; the field tree offers both, the refused disabled with their reason."""
    chosen = {
        "type": "integer",
        "x-options": {"source": "auditors"},
        "oneOf": [{"const": 1, "title": "张组长"}],
        "x-unavailable": [{"const": 4, "title": "钱无证", "reason": "R-7.2.2: 无注册"}],
    }
    schema = {
        "type": "object",
        "properties": {
            "auditor_id": chosen,
            "attendees": {"type": "array", "items": chosen},
        },
    }
    form = build_form(schema, {"attendees": [1]})
    auditor, attendees = form.fields
    assert auditor.kind == "select"  # even with few options: their number varies
    assert attendees.kind == "choice_array"
    for field in (auditor, attendees):
        assert [(o.value, o.label, o.disabled) for o in field.options] == [
            (1, "张组长", ""),
            (4, "钱无证", "R-7.2.2: 无注册"),
        ]
    assert attendees.selected(attendees.options[0])
    submitted = parse_submission(schema, MultiDict([("f/auditor_id", "1"), ("f/attendees", "1")]))
    assert submitted.data == {"auditor_id": 1, "attendees": [1]} and not submitted.errors
