"""Issue 14: operators declare their parameters; the registry checks them before the handler."""

from typing import Any

import pytest
from pydantic import Field

from handlers.params import Flag, Id, ParameterError, Params, describe
from handlers.registry import declared_params, get_handler, handler, unregister


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
