"""Issue 14: the lifecycle operators (complaints, surveillance, changes, misuse, disclosure,
certificate status) are thin adapters — each declares its parameters, the diagrams pass exactly
those, and their rules live in domain/ without Flask, the engine or the handlers."""

import ast

import pytest
from lxml import etree

import handlers  # noqa: F401  (registers every operator)
from domain.checks import require_choice, require_flag, require_text
from domain.disclosure import disclosure_problems
from domain.errors import RuleViolation
from domain.surveillance import limit_problem, outcome_problem
from handlers.params import ParameterError, describe
from handlers.registry import REGISTRY, declared_params, get_handler
from tests.paths import ROOT

SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
LIFECYCLE_MODULES = {
    "handlers.complaints",
    "handlers.surveillance",
    "handlers.changes",
    "handlers.misuse",
    "handlers.disclosure",
    "handlers.certificate_status",
}
DOMAIN_MODULES = (
    "certificate_status",
    "change_steps",
    "changes",
    "complaint_handling",
    "complaints",
    "disclosure",
    "checks",
    "misuse",
    "surveillance",
    "surveillance_outcome",
    "surveillance_planning",
    "surveillance_restoration",
    "recertification_review",
    "early_recertification",
    "suspension_joining",
)


def lifecycle_operators() -> list[str]:
    return sorted(
        op for op in REGISTRY.operators() if REGISTRY.handler(op).__module__ in LIFECYCLE_MODULES
    )


def service_tasks() -> list[tuple[str, str, set[str]]]:
    """(file, operator, parameter names) of every service task in processes/."""
    found = []
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        for operator in etree.parse(str(path)).iter(f"{SPIFF}serviceTaskOperator"):
            names = {p.get("id") for p in operator.iter(f"{SPIFF}parameter")}
            found.append((path.name, operator.get("id"), names))
    return found


def test_every_lifecycle_operator_declares_its_parameters_with_help():
    operators = lifecycle_operators()
    # + surveillance.cycle_certificate, recertification.record_review (issue 11),
    # surveillance.record_review and surveillance.audit_conducted (R-8.10.1/2),
    # surveillance.record_early_recertification and .early_recertification_agreed
    # changes.decide_site_extension, certificate.reduce_scope_after_suspension
    assert len(operators) == 38
    for operator in operators:
        model = declared_params(operator)
        assert model is not None, operator
        for row in describe(model):
            assert row["description"].strip(), f"{operator}.{row['name']} has no help text"


def test_the_diagrams_pass_exactly_the_declared_parameters():
    ours = set(lifecycle_operators())
    checked = 0
    for file, operator, names in service_tasks():
        if operator not in ours:
            continue
        rows = describe(declared_params(operator))
        declared = {row["name"] for row in rows}
        required = {row["name"] for row in rows if row["required"]}
        assert names <= declared, f"{file}: {operator} passes undeclared {names - declared}"
        assert required <= names, f"{file}: {operator} misses {required - names}"
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    ("operator", "raw", "names"),
    [
        ("misuse.close", {"misuse_id": "7", "outcome": "corrected"}, ["misuse_id"]),
        ("disclosure.notify_client", {"disclosure_id": 1, "extra": 1}, ["extra"]),
        ("certificate.restore", {"note": "x"}, ["certificate_id"]),
        ("complaints.reply", {"complaint_id": True}, ["complaint_id"]),
    ],
)
def test_parameters_that_do_not_fit_never_reach_the_rules(operator, raw, names):
    with pytest.raises(ParameterError) as caught:
        get_handler(operator)(raw, None)  # no context: the check comes first
    assert [name for name, _ in caught.value.problems] == names


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_lifecycle_rules_import_no_flask_engine_or_handlers(module):
    tree = ast.parse((ROOT / "domain" / f"{module}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    layers = {"flask", "engine", "handlers", "webapp"}
    assert not {name for name in imported if name.split(".")[0] in layers}


def test_rule_checks_name_the_rule():
    with pytest.raises(RuleViolation, match="R-10.3: 'confirmed' must be true or false"):
        require_flag("yes", "confirmed", "R-10.3")
    with pytest.raises(RuleViolation, match="R-11: 'channel' is required"):
        require_text("  ", "channel", "R-11")
    with pytest.raises(RuleViolation, match=r"R-10.3: 'action' must be one of \['none'\]"):
        require_choice("fine", "action", "R-10.3", ("none",))
    assert require_text(" e-mail ", "channel", "R-11") == "e-mail"


def test_surveillance_limits_and_outcomes_without_a_database():
    from datetime import date

    due, hard = date(2027, 3, 9), date(2027, 6, 9)
    assert limit_problem(date(2027, 3, 9), due, hard, "") is None
    assert limit_problem(date(2027, 4, 1), due, hard, "")[0] == "R-7.1.3"
    assert limit_problem(date(2027, 4, 1), due, hard, "the client moved") is None
    assert limit_problem(date(2027, 6, 10), due, hard, "any reason")[0] == "R-8.10.1"
    # the first surveillance (hard limit = due date) is never extended.
    assert "never extended" in limit_problem(date(2027, 3, 10), due, due, "any reason")[1]
    assert limit_problem(date(2027, 3, 9), due, due, "") is None
    assert outcome_problem(3, 3, "maintain") is None
    assert "downgrade or suspend" in outcome_problem(3, 2, "maintain")
    assert outcome_problem(3, 2, "suspend") is None
    assert "withdraw" in outcome_problem(3, 0, "downgrade")


def test_disclosure_order_without_a_database():
    from datetime import UTC, date, datetime
    from types import SimpleNamespace

    notified = SimpleNamespace(
        id=3,
        status="notified",
        legal_basis_no_notice=None,
        notice_document_id=9,
        notified_at=datetime(2026, 3, 10, 2, tzinfo=UTC),
    )
    today = date(2026, 3, 20)
    assert disclosure_problems(notified, date(2026, 3, 12), today) == []
    assert (
        "before the client was notified"
        in disclosure_problems(notified, date(2026, 3, 9), today)[0]
    )
    assert "in the future" in disclosure_problems(notified, date(2026, 3, 21), today)[0]
    unnotified = SimpleNamespace(
        **{**vars(notified), "notice_document_id": None, "notified_at": None}
    )
    assert "has not been notified" in disclosure_problems(unnotified, date(2026, 3, 12), today)[0]
