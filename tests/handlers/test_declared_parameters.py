"""Issue 14: the audit-side operators declare their parameters, and the BPMN service tasks pass
exactly the declared names (one parameter path; a renamed parameter fails here, not at run time
as an incident). The domain rules they call run without Flask or the engine."""

import pytest
from lxml import etree

import handlers  # noqa: F401  (registers every operator)
from domain.audit.report import render_report
from handlers.registry import declared_params, registered_operators
from tests.paths import PROCESSES

SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
# The operators of handlers/{audit,team,programme,application,contract,nonconformity,decision,
# certificate}.py.
AUDIT_SIDE_PREFIXES = ("application.", "audit.", "contract.", "decision.", "nc.", "programme.")
AUDIT_SIDE_OPERATORS = {
    "team.appoint",
    "certificate.issue",
    "notices.audit_report",
    "notices.not_accepted",
    "notices.refusal",
}


def _service_tasks() -> list[tuple[str, str, set[str]]]:
    """(file, operator, parameter names) of every service task in processes/."""
    found = []
    for path in sorted(PROCESSES.glob("*.bpmn")):
        for operator in etree.parse(str(path)).getroot().iter(f"{SPIFF}serviceTaskOperator"):
            names = {p.get("id") for p in operator.iter(f"{SPIFF}parameter")}
            found.append((path.name, operator.get("id"), names))
    return found


def _audit_side(operator: str) -> bool:
    return operator.startswith(AUDIT_SIDE_PREFIXES) or operator in AUDIT_SIDE_OPERATORS


def test_every_audit_side_operator_declares_its_parameters():
    operators = sorted(op for op in registered_operators() if _audit_side(op))
    assert len(operators) >= 28
    assert [op for op in operators if declared_params(op) is None] == []
    for operator in operators:
        model = declared_params(operator)
        undocumented = [n for n, f in model.model_fields.items() if not f.description]
        assert undocumented == [], f"{operator}: parameters without help text {undocumented}"


@pytest.mark.parametrize(
    ("file", "operator", "passed"),
    [task for task in _service_tasks() if declared_params(task[1]) is not None],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_service_tasks_pass_exactly_the_declared_parameters(file, operator, passed):
    declared = set(declared_params(operator).model_fields)
    assert passed == declared, (
        f"{file}: {operator} passes {sorted(passed - declared)} undeclared, "
        f"misses {sorted(declared - passed)}"
    )


def test_the_audit_report_renders_from_plain_facts():
    """R-8.6: the report body comes from its facts alone (no database, no Flask)."""
    facts = {
        "application_number": "APP-2026-0001",
        "client": {"name": "甲公司", "address": "北京市"},
        "scope": "家电售后服务",
        "sites": [{"name": "总部", "address": "北京市"}],
        "audit_type": "initial",
        "criteria": "GB/T 27922-2011",
        "objectives": None,
        "team": [{"name": "张三", "role": "leader", "registration_number": None}],
        "dates": {"start": "2026-03-09", "end": "2026-03-10", "audit_days": []},
        "places": [],
        "deviations": [],
        "uncertainty": "抽样",
        "narrative": {
            "indicator_set": "v1",
            "score": 91.5,
            "final_score": 91.5,
            "special_deduction_count": 0,
            "requirements": [
                {
                    "item_code": "5.1",
                    "text_zh": "服务承诺",
                    "result": "conform",
                    "evidence": "",
                    "improvement_opportunity": "回访",
                }
            ],
            "special_deductions": [],
            "special_bonus": [],
            "nonconformities": [],
            "disagreements": [],
        },
        "recommendation": {
            "conclusion": "recommend",
            "star_level": 3,
            "requested_level": 3,
            "reason": "requested level 3 met",
        },
    }
    body = render_report(facts)
    assert body.startswith("# 审查报告 Audit report — APP-2026-0001\n\n## 1 受审查方 Client\n")
    assert "- 类型 Type: 初次认证审查 Initial certification audit\n" in body
    assert "- 目的 Objectives: —\n" in body
    assert "- 张三 (组长 leader) 注册号 Registration: —\n" in body
    assert "- 审查日 Audit days: —\n- 地点 Places: —\n" in body
    assert "- 偏离计划 Deviations from the plan: 无 none\n" in body
    assert "- 5.1 服务承诺: conform; 改进机会 Improvement opportunity: 回访\n" in body
    assert body.endswith(
        "- 推荐认证 Recommend certification\n- 星级 Star level: 3 (申请 requested: 3)\n"
        "- requested level 3 met\n"
    )
