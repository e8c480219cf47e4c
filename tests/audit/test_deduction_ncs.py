"""R-8.7: every deduction finding yields a nonconformity to correct (domain/audit/deduction_ncs.py),
through the audit handlers and the real database, without the engine. A finding that costs
points — a qualitative item not met, a sampled item with failures, each occurrence of a special
deduction — gets an NC derived from it at the team's conclusion (general; serious for a special
deduction), linked to the finding, unless the team raised one for it; none for a conforming
item or a sample without failures."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.audit.deduction_ncs import derived_of
from domain.errors import RuleViolation
from domain.models import Finding, Nonconformity
from tests.audit.test_handlers_audit import (
    AUDITOR,
    INDICATORS,
    all_conform,
    call,
    conclusion_params,
    conform,
    evidence_params,
    nc,
    scored_case,
)

QUALITATIVE = [item.code for item in INDICATORS.items if item.kind == "qualitative"]
SAMPLED = [item.code for item in INDICATORS.items if item.kind == "sampled"]


def findings_with(changes: dict[str, dict]) -> list[dict]:
    return [
        conform(entry["item_code"], **changes.get(entry["item_code"], {}))
        for entry in all_conform()
    ]


def ncs() -> list[Nonconformity]:
    return list(db.session.scalars(select(Nonconformity).order_by(Nonconformity.id)))


def finding_of(audit_id: int, code: str) -> Finding:
    return db.session.scalars(
        select(Finding).where(Finding.audit_id == audit_id, Finding.item_code == code)
    ).one()


def deduction_case(clock, requested_level=5):
    """Deductions: a qualitative item not met, a sampled item with 2 failures of 10, SD-3 found
    twice; a sampled item without failures costs nothing."""
    findings = findings_with(
        {
            QUALITATIVE[0]: {"result": "nonconform", "evidence": "未见服务承诺 no commitment"},
            SAMPLED[0]: {"result": "sampled", "sample_size": 10, "failures": 2, "evidence": "抽样"},
            SAMPLED[1]: {"result": "sampled", "sample_size": 10, "failures": 0, "evidence": "抽样"},
        }
    )
    return scored_case(
        db.session,
        clock.now(),
        requested_level=requested_level,
        findings=findings,
        special_deductions=[
            {"code": "SD-3", "evidence": "虚假宣传 misleading advert"},
            {"code": "SD-3", "evidence": "第二处虚假宣传 a second one"},
        ],
    )


def test_every_deduction_finding_yields_one_nonconformity_linked_to_it(ctx, clock):
    case = deduction_case(clock)
    result = call("audit.record_conclusion", conclusion_params(case, star_level=3), clock.now())
    assert result["nonconformity_count"] == 4  # 2 items + SD-3 twice
    rows = ncs()
    assert [(row.number, row.item_code, row.nature, row.status) for row in rows] == [
        ("NC-1", QUALITATIVE[0], "general", "open"),
        ("NC-2", SAMPLED[0], "general", "open"),
        ("NC-3", "SD-3", "serious", "open"),  # §8.7.2: a special deduction is serious
        ("NC-4", "SD-3", "serious", "open"),
    ]
    assert rows[0].finding_id == finding_of(case.audit.id, QUALITATIVE[0]).id
    assert "未见服务承诺" in rows[0].evidence
    assert "抽样 10" in rows[1].evidence and "不符合 2" in rows[1].evidence
    assert {row.evidence for row in rows[2:]} == {
        "虚假宣传 misleading advert",
        "第二处虚假宣传 a second one",
    }
    # The NC report's record, in its one language (the requirement's Chinese text): shown as
    # written on every page, like the team's own NCs — never two languages in one text.
    item = INDICATORS.item(QUALITATIVE[0])
    assert rows[0].description == f"扣分项 {item.code} {item.text_zh}"
    special = next(s for s in INDICATORS.special_deductions if s.code == "SD-3")
    assert rows[2].description == f"特别扣分项 SD-3 {special.text_zh}"
    # The conclusion below the requested level is conditional on correcting them.
    assert case.audit.conclusion_notes["conditional_on_corrections"] is True


def test_an_nc_the_team_raised_stands_for_its_finding_and_is_not_duplicated(ctx, clock):
    case = deduction_case(clock)
    team = [nc(QUALITATIVE[0]), {**nc("SD-3"), "nature": "serious"}]
    call(
        "audit.record_conclusion",
        conclusion_params(case, star_level=3, nonconformities=team),
        clock.now(),
    )
    rows = ncs()
    assert [(row.item_code, row.finding_id is None) for row in rows] == [
        (QUALITATIVE[0], True),  # the team's wording
        ("SD-3", True),  # the team's, for the first occurrence
        (SAMPLED[0], False),  # derived
        ("SD-3", False),  # derived for the second occurrence
    ]
    assert len(derived_of(case.audit)) == 2


def test_no_deduction_no_derived_nonconformity(ctx, clock):
    case = scored_case(db.session, clock.now())
    result = call("audit.record_conclusion", conclusion_params(case), clock.now())
    assert result["nonconformity_count"] == 0
    assert ncs() == []


def test_a_corrected_finding_on_a_later_day_derives_nothing(ctx, clock):
    """The latest finding of an item is the one scored: a later conforming finding means no
    deduction and no NC for that item."""
    case = scored_case(
        db.session,
        clock.now(),
        findings=findings_with({QUALITATIVE[0]: {"result": "nonconform", "evidence": "e"}}),
    )
    later = clock.now() + timedelta(hours=1)
    call(
        "audit.record_evidence",
        evidence_params(case, [conform(QUALITATIVE[0])]),
        later,
        actor=AUDITOR,
    )
    call("audit.compute_score", {"audit_id": case.audit.id}, later)
    call("audit.record_conclusion", conclusion_params(case), later)
    assert ncs() == []


def test_the_conclusion_form_counts_the_derived_nonconformities(ctx, clock):
    """Below the requested level a recommendation needs NCs to correct (R-8.5.5): the derived
    ones count, at submit (form check) as at recording."""
    from domain.audit.conclusion import conclusion_problems

    case = deduction_case(clock)
    data = conclusion_params(case, star_level=3)
    assert conclusion_problems(db.session, data, clock.now()) == {}


def test_without_deductions_a_recommendation_below_the_level_still_needs_ncs(ctx, clock):
    from domain.audit.conclusion import conclusion_problems

    clean = scored_case(db.session, clock.now(), requested_level=5)
    problems = conclusion_problems(db.session, conclusion_params(clean, star_level=4), clock.now())
    assert "conclusion" in problems
    with pytest.raises(RuleViolation, match="no nonconformities"):
        call("audit.record_conclusion", conclusion_params(clean, star_level=4), clock.now())
