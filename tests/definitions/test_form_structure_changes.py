"""The structural changes of a form the review lists (issue 12, ISO/IEC 17065 8.3: changes
identified): types, choices, value rules, x-checks, x-options and the order of the fields."""

from domain.form_structure_changes import structure_changes

BEFORE = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["a", "b"], "title": "类别"},
        "count": {"type": "integer", "minimum": 1},
        "site": {"type": "string", "x-options": {"source": "case_sites"}},
        "items": {"type": "array", "items": {"type": "string", "enum": ["x"]}},
    },
}


def _changes(after: dict) -> set[tuple[str, str, str, str]]:
    return {(c.where, c.what, c.before, c.after) for c in structure_changes(BEFORE, after)}


def test_an_unchanged_form_or_a_text_change_lists_no_structural_change():
    assert structure_changes(BEFORE, BEFORE) == []
    retitled = {**BEFORE, "properties": {**BEFORE["properties"]}}
    retitled["properties"]["kind"] = {**BEFORE["properties"]["kind"], "title": "种类"}
    assert structure_changes(BEFORE, retitled) == []


def test_types_choices_rules_checks_option_sources_and_order_are_listed():
    properties = BEFORE["properties"]
    after = {
        "type": "object",
        "x-checks": ["audit.closing_meeting_not_future"],
        "properties": {
            "count": {"type": "number", "minimum": 0},
            "kind": {**properties["kind"], "enum": ["a", "c"]},
            "site": {"type": "string", "x-options": {"source": "other_sites"}},
            "items": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
        },
    }
    assert _changes(after) == {
        ("", "checks", "", '["audit.closing_meeting_not_future"]'),
        ("kind", "choices", '["a", "b"]', '["a", "c"]'),
        ("count", "type", "integer", "number"),
        ("count", "rules", '{"minimum": 1}', '{"minimum": 0}'),
        ("site", "options_source", '{"source": "case_sites"}', '{"source": "other_sites"}'),
        ("items", "choices", '["x"]', '["x", "y"]'),
        ("", "order", "kind, count, site, items", "count, kind, site, items"),
    }
