"""Representative facts for every letter template in domain/letters (issue 14 (d)): the tests
render each letter with them in every document locale. Names and free texts are ASCII so that a
CJK character in an English rendering can only come from the template or its catalogue."""

from datetime import date
from types import SimpleNamespace as NS
from typing import Any

DAY = date(2026, 3, 9)
LATER = date(2026, 4, 8)
ORG = NS(
    name="Acme Service Ltd",
    uscc="91350100M000100Y43",
    address="1 Harbour Road, Fuzhou",
    contact_name="Li Lei",
)
CERT = NS(
    organisation_name="Acme Service Ltd",
    number="CTC-ASS-2026-0001",
    star_level=4,
    scope="Household appliances after-sales service",
    issued_on=DAY,
    expires_on=date(2029, 3, 8),
)
OLD = NS(number="CTC-ASS-2026-0001", star_level=5)
NEW = NS(
    organisation_name="Acme Service Ltd",
    number="CTC-ASS-2026-0002",
    star_level=4,
    original_issued_on=DAY,
    changed_on=LATER,
    expires_on=date(2029, 3, 8),
)
APPLICATION = NS(number="APP-2026-0007", organisation=ORG)
COMPLAINT = NS(
    reference="CMP-2026-0003",
    complainant_name="Wang Fang",
    complainant_contact="wang@example.org",
    subject="Late repair",
    handler="quality_manager",
    decision="Upheld: the repair was late; the client corrected it.",
    substantiated=True,
)
CHANGE = NS(reference="CHG-2026-0001", kind="remove_site")
NC = NS(number="NC-1", item_code="4.2", description="No repair log", evidence="Log book empty")
DISCLOSURE = NS(
    information="Certificate status",
    recipient="Market regulator",
    purpose="Inspection request",
    notice_document_id=12,
    legal_basis_no_notice="Court order 7",
)
REPORT = NS(
    application_number="APP-2026-0007",
    client=NS(name="Acme Service Ltd", address="1 Harbour Road"),
    scope="Household appliances",
    sites=[NS(name="Main site", address="1 Harbour Road")],
    audit_type="initial",
    criteria="GB/T 27922-2011",
    objectives="Initial certification",
    team=[
        NS(name="Zhang San", role="leader", registration_number="R-1"),
        NS(name="Li Si", role="tech_expert", registration_number=None),
    ],
    dates=NS(start="2026-03-09", end="2026-03-10", audit_days=["2026-03-09", "2026-03-10"]),
    places=["Main site"],
    deviations=[NS(kind="date", decision="accepted", details="one day later")],
    uncertainty="Sampling was limited to two days.",
    narrative=NS(
        indicator_set="GB/T 27922-2011 v1",
        score=88,
        final_score=86,
        special_deduction_count=1,
        requirements=[
            NS(
                item_code="4.1",
                text_zh="服务方针",
                text_en="Service policy",
                result="met",
                evidence="policy seen",
                improvement_opportunity="publish it online",
            ),
            NS(
                item_code="4.2",
                text_zh="维修记录",
                text_en="Repair log",
                result=None,
                evidence="",
                improvement_opportunity="",
            ),
        ],
        special_deductions=[
            NS(code="D1", text_zh="投诉未答复", text_en="Complaint unanswered", evidence="case 3")
        ],
        special_bonus=[NS(code="B1", text_zh="获奖", text_en="Award", evidence="2025 award")],
        nonconformities=[NC],
        disagreements=["Scope wording"],
    ),
    recommendation=NS(conclusion="recommend", star_level=4, requested_level=5, reason="Met."),
)


def shopping(random_survey: NS) -> NS:
    return NS(
        visit_date="2026-03-01",
        shopper="Zhou Qi",
        service_experienced="Repair",
        observations="Friendly staff",
        random_survey=random_survey,
    )


def letter_facts() -> dict[str, list[dict[str, Any]]]:
    """Template name → the fact sets it is rendered with (every branch of the template)."""
    suspended = {"certificate": CERT, "today": "2026-03-09", "clause": "R-9.5.1 (a)"}
    complaint = {
        "complaint": COMPLAINT,
        "kind_zh": "投诉",
        "kind_en": "complaint",
        "received_on": "2026-03-09",
        "due": "2026-04-08",
    }
    site = NS(name="North site", address="9 North Road")
    return {
        "announcement_cancelled": [{**suspended, "clause": "R-9.5.3"}],
        "announcement_change_downgraded": [{"new": NEW, "old": OLD}],
        "announcement_change_scope_reduced": [{"new": NEW, "old": OLD, "site": site}],
        "announcement_downgraded": [{"new": NEW, "old": OLD, "changed_on": "2026-04-08"}],
        "announcement_suspension_scope_reduced": [
            {"new": NEW, "old": OLD, "sites_text": "North site (2 North Road)"}
        ],
        "announcement_restored": [{"certificate": CERT, "today": "2026-03-09"}],
        "announcement_suspended": [
            {**suspended, "site_names": "North site"},
            {**suspended, "site_names": None},
        ],
        "announcement_withdrawn": [{**suspended, "clause": "R-9.5.2"}],
        "appointment_letter": [
            {
                "organisation": ORG,
                "reference": "APP-2026-0007",
                "kind": "initial audit",
                "texts": NS(
                    objectives="Initial certification",
                    criteria="GB/T 27922-2011",
                    scope_and_boundaries="Household appliances; main site",
                ),
                "onsite_start": DAY,
                "onsite_end": date(2026, 3, 10),
                "members": [
                    NS(name="Zhang San", role="leader", registration_number="R-1"),
                    NS(name="Zhao Liu", role="auditor", registration_number="R-2"),
                    NS(name="Li Si", role="tech_expert", registration_number=None),
                ],
                "role_names": {
                    "leader": "审查组长 team leader",
                    "auditor": "审查员 auditor",
                    "tech_expert": "技术专家 technical expert",
                },
                "appointed_by": "demo_audit_manager",
                "appointed_on": DAY,
            }
        ],
        "audit_report": [
            {"data": REPORT},
            {
                "data": NS(
                    **{**vars(REPORT), "deviations": [], "objectives": "", "places": []},
                )
            },
        ],
        "certificate_change_notice": [
            {"change": CHANGE, "new": NEW, "old": OLD, "kind_label": "remove site"},
            {
                "change": NS(reference="CHG-2026-0002", kind="name"),
                "new": NEW,
                "old": OLD,
                "kind_label": "name",
            },
        ],
        "certified_announcement": [
            {"certificate": CERT, "replaces": None},
            {"certificate": CERT, "replaces": OLD},
        ],
        "change_refusal_notice": [
            {
                "change": CHANGE,
                "certificate": CERT,
                "kind_label": "remove site",
                "requested_on": "2026-03-09",
                "reason": "The site is still in use.",
            }
        ],
        "complaint_acknowledgement": [complaint],
        "complaint_follow_up": [
            {
                "complaint": COMPLAINT,
                "number": "CTC-ASS-2026-0001",
                "measure": "extra surveillance (R-8.10.1)",
                "message": "extra_surveillance",
                "reason": "complaint",
            }
        ],
        "complaint_reminder": [{**complaint, "days_left": 10}],
        "complaint_reply": [
            {**complaint, "answered_on": "2026-03-30", "with_follow_up": True, "cnca": "CNCA"},
            {
                **complaint,
                "complaint": NS(**{**vars(COMPLAINT), "substantiated": False}),
                "answered_on": "2026-03-30",
                "with_follow_up": False,
                "cnca": "CNCA",
            },
        ],
        "disclosure_notice": [
            {
                "organisation": ORG,
                "disclosure": DISCLOSURE,
                "disclosure_from": "2026-03-19",
                "acknowledge_by": "2026-03-19",
            }
        ],
        "disclosure_record": [
            {
                "disclosure": DISCLOSURE,
                "disclosed_on": "2026-03-20",
                "channel": "letter",
                "actor": "demo_quality_manager",
                "notified_at": "2026-03-09 10:00",
            },
            {
                "disclosure": DISCLOSURE,
                "disclosed_on": "2026-03-20",
                "channel": "letter",
                "actor": "demo_quality_manager",
                "notified_at": None,
            },
        ],
        "extra_surveillance_trigger": [
            {
                "certificate": CERT,
                "reason": "d",
                "reason_zh": "其他",
                "reason_en": "other reasons",
                "detail": "Media report",
            },
            {
                "certificate": CERT,
                "reason": "a",
                "reason_zh": "投诉",
                "reason_en": "complaint",
                "detail": None,
            },
        ],
        "misuse_closure": [
            {
                "case": NS(reference="MIS-2026-0001", legal_follow_up=None),
                "certificate": CERT,
                "outcome": "corrected",
                "note": "Adverts removed",
            }
        ],
        "misuse_notice": [
            {
                "certificate": CERT,
                "case": NS(investigation="The mark is on uncertified products."),
                "deadline": LATER,
            },
            {
                "certificate": CERT,
                "case": NS(investigation="The mark is on uncertified products."),
                "deadline": None,
            },
        ],
        "mystery_shopping_record": [
            {"application_number": "APP-2026-0007", "record": shopping(survey)}
            for survey in (NS(done=True, satisfied_count=9, sample_size=10), NS(done=False))
        ],
        "random_survey_record": [  # the survey made during the on-site audit
            {
                "application_number": "APP-2026-0007",
                "record": NS(
                    survey_date="2026-03-02",
                    method="Telephone calls to recent customers",
                    random_survey=NS(done=True, satisfied_count=27, sample_size=30),
                ),
            }
        ],
        "nc_reminder": [{"application": APPLICATION, "deadline": "2026-04-08", "pending": [NC]}],
        "nc_report": [
            {"application": APPLICATION, "nonconformities": [NC], "deadline": "2026-04-08"}
        ],
        "not_accepted_notice": [
            {
                "organisation": ORG,
                "application": APPLICATION,
                "submitted_on": date(2026, 3, 1),
                "reason": "The scope is outside our accreditation.",
                "issuing_body": "CTC",
                "today": DAY,
            }
        ],
        "refusal_notice": [
            {
                "application": APPLICATION,
                "organisation": ORG,
                "decision": NS(reasons="Score below 60.", decided_on=DAY),
            }
        ],
        "surveillance_reminder": [
            {
                "certificate": CERT,
                "number": 1,
                "due": "2027-03-08",
                "hard_limit": "2027-06-08",
                "planned": "2027-02-01",
            }
        ],
    }
