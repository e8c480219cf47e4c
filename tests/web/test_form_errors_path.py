"""Issue 14 (b), one validation path: the engine checks task data and its FormValidationError
carries, per field, structured findings (path, validator, validator_value, its message); the
web words them by `validator` (webapp/form_errors.py) and never validates again."""

import sys
from pathlib import Path

import grimp
import pytest
from flask import Flask

from engine.errors import FormValidationError
from engine.forms import FieldError
from tests.helpers import MARKET
from webapp import form_errors, i18n

ROOT = Path(__file__).resolve().parents[2]
REASON = "第 3 位校验码错误"  # a format checker's own reason, kept as written


def test_the_engines_error_carries_the_failed_rule_per_field(deployed):
    instance = deployed.start(
        "review_flow", actor=MARKET, business_key="APP-1", data={"headcount": 120}
    )
    [task] = deployed.task_names([instance.id])
    with pytest.raises(FormValidationError) as refused:
        deployed.complete_task(task, actor=MARKET, data={"man_days": 0.1, "extra": 1})
    details = refused.value.details
    assert details["accepted"] == [
        FieldError("accepted", "required", "required", ["accepted", "man_days"])
    ]
    [minimum] = details["man_days"]
    assert (minimum.path, minimum.validator, minimum.validator_value) == (
        "man_days",
        "minimum",
        0.5,
    )
    [extra] = details["_form"]
    assert (extra.validator, extra.validator_value) == ("additionalProperties", False)
    # The texts of `errors` are the findings' messages, field by field.
    assert refused.value.errors == {
        field: [item.message for item in items] for field, items in details.items()
    }


def test_the_same_check_without_completing(deployed):
    instance = deployed.start(
        "review_flow", actor=MARKET, business_key="APP-1", data={"headcount": 120}
    )
    task = deployed.find_task(next(iter(deployed.task_names([instance.id]))))
    found = deployed.form_errors(task, {"accepted": True, "man_days": 0.1})
    assert [(e.path, e.validator) for e in found["man_days"]] == [("man_days", "minimum")]
    assert deployed.form_errors(task, {"accepted": True, "man_days": 1}) == {}
    assert deployed.find_task(task.id).state == "open"


def test_a_domain_validators_finding_has_no_rule_and_is_shown_as_written():
    refused = FormValidationError({"kind": ["R-9.3: no"]})
    assert refused.details == {"kind": [FieldError("kind", "R-9.3: no")]}
    assert refused.errors == {"kind": ["R-9.3: no"]}
    app = Flask(__name__)
    i18n.babel.init_app(app, locale_selector=lambda: "zh_CN")
    with app.test_request_context("/"):
        worded = form_errors.worded(
            {
                "n": [
                    FieldError("n", "0 is less than the minimum of 1", "minimum", 1),
                    FieldError("n", "0 is less than the minimum of 1", "minimum", 1),
                ],
                "uscc": [
                    FieldError("uscc", "第 3 位校验码错误", "format", "uscc", "第 3 位校验码错误")
                ],
                **refused.details,
            }
        )
    assert worded == {"n": ["不得小于 1。"], "uscc": ["第 3 位校验码错误"], "kind": ["R-9.3: no"]}


def test_the_web_validates_no_form_data_itself():
    """No module of webapp/ imports jsonschema: the form check is the engine's alone."""
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph("webapp", "jsonschema", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    direct = {
        module
        for module in graph.modules
        if module.split(".")[0] == "webapp"
        and any(
            imported.split(".")[0] == "jsonschema"
            for imported in graph.find_modules_directly_imported_by(module)
        )
    }
    assert direct == set()
