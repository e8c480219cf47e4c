"""Issue 14: operators declare their parameters; the registry checks them before the handler."""

import ast
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

import handlers  # noqa: F401  (registers every operator)
from handlers.params import Flag, Id, MissingParameter, ParameterError, Params, describe
from handlers.registry import declared_params, get_handler, handler, unregister
from tests.paths import ROOT


class _ExampleParams(Params):
    audit_id: Id
    reason: str = Field(description="why, in the client's words")
    urgent: Flag = False


@pytest.fixture
def example():
    seen: list[Any] = []

    @handler("test.example_params", params=_ExampleParams)
    def run(params: _ExampleParams, ctx) -> dict:
        seen.append(params)
        return {"audit": params.audit_id}

    yield seen
    unregister("test.example_params")


def test_declared_parameters_reach_the_handler_as_a_model(example):
    result = get_handler("test.example_params")({"audit_id": 7, "reason": " late "}, None)
    assert result == {"audit": 7}
    assert example[0] == _ExampleParams(audit_id=7, reason="late", urgent=False)
    assert declared_params("test.example_params") is _ExampleParams


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"reason": "x"}, ["audit_id"]),  # missing
        ({"audit_id": True, "reason": "x"}, ["audit_id"]),  # a bool is no id
        ({"audit_id": "7", "reason": "x"}, ["audit_id"]),  # strict: no strings for ids
        ({"audit_id": 0, "reason": "x"}, ["audit_id"]),
        ({"audit_id": 7, "reason": "x", "urgent": "yes"}, ["urgent"]),
        ({"audit_id": 7, "reason": "x", "extra": 1}, ["extra"]),  # undeclared
    ],
)
def test_parameters_that_do_not_fit_are_refused_by_name(example, raw, names):
    with pytest.raises(ParameterError) as caught:
        get_handler("test.example_params")(raw, None)
    assert [name for name, _ in caught.value.problems] == names
    assert "test.example_params" in str(caught.value)
    assert example == []  # the handler never ran


def test_describe_lists_names_types_and_help():
    rows = {row["name"]: row for row in describe(_ExampleParams)}
    assert rows["audit_id"]["required"] and not rows["urgent"]["required"]
    assert rows["reason"]["description"] == "why, in the client's words"


# -- one vocabulary (issue 14 (e)) --------------------------------------------------------------
HANDLERS_DIR = ROOT / "handlers"
TYPE_BUILDERS = {"Annotated", "WithJsonSchema", "BeforeValidator", "AfterValidator"}


def _type_definitions(path: Path) -> list[str]:
    """Module-level names a handler module defines as a parameter type: `X = A | B` or
    `X = Annotated[...]` (or any use of pydantic's type builders)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            union = isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr)
            built = (
                any(
                    isinstance(sub, ast.Name) and sub.id in TYPE_BUILDERS for sub in ast.walk(value)
                )
                if value is not None
                else False
            )
            if union or built:
                found.extend(names)
    return found


def test_parameter_types_are_defined_once_in_handlers_params():
    defined = {
        path.name: names
        for path in sorted(HANDLERS_DIR.glob("*.py"))
        if path.name != "params.py" and (names := _type_definitions(path))
    }
    assert defined == {}
    assert {"OptionalText", "RuleText", "RuleDate", "RuleInt", "RuleFlag"} <= set(
        _type_definitions(HANDLERS_DIR / "params.py")
    )


def test_a_missing_parameter_is_a_parameter_error_everywhere():
    """application.register (once its own MissingParameter KeyError) and the lifecycle operators
    answer a missing parameter the same way: a ParameterError naming it, also a KeyError."""
    for operator, raw in [
        ("application.close_terminated", {}),
        ("certificate.restore", {"note": "x"}),
    ]:
        with pytest.raises(MissingParameter) as caught:
            get_handler(operator)(raw, None)
        assert isinstance(caught.value, ParameterError)
        assert isinstance(caught.value, KeyError)
        assert [name for name, _ in caught.value.problems] == [
            "application_id" if operator.startswith("application") else "certificate_id"
        ]
        assert "missing: the service task must pass it" in str(caught.value)


@pytest.mark.parametrize(
    ("operator", "raw", "names"),
    [
        ("application.close_terminated", {"application_id": "1"}, ["application_id"]),
        ("misuse.close", {"misuse_id": 1, "outcome": "corrected", "note": 5}, ["note"]),
        ("audit.terminate", {"audit_id": 1, "reason": 5}, ["reason"]),
    ],
)
def test_a_wrong_type_is_one_parameter_error_and_a_type_error(operator, raw, names):
    """One OptionalText and one Id for every operator: a wrong type is a ParameterError naming
    the parameter (a TypeError too, as the application operators always answered)."""
    with pytest.raises(ParameterError) as caught:
        get_handler(operator)(raw, None)
    assert isinstance(caught.value, TypeError)
    assert [name for name, _ in caught.value.problems] == names
