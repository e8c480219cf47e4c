"""The scripted actor's answers of tests/lifecycle_simulation.py: the forms of the initial
procedure and of a surveillance as the people of each role fill them in (shaped like
tests/certification_case.py and tests/lifecycle_case.py), and one client account per client."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from certflow.db import db
from domain.audit.onsite import CLOSING_MEETING_ITEMS, OPENING_MEETING_ITEMS
from engine.service import Actor
from tests.certification_case import People, findings_losing
from tests.helpers import discussed_with_client

ACCEPTANCE = {
    "information_sufficient": True,
    "differences_resolved": True,
    "scope_determined": True,
    "cb_able": True,
    "man_days": 3.0,
    "man_days_basis": "120 人，2 个固定场所",
    "scope": "家用电器售后服务",
    "accepted": True,
    "not_accepted_reason": None,
}
DOCUMENTS_ADEQUATE = {
    "documents_reviewed": [
        "service_scope: 服务范围",
        "policy_objectives: 服务方针和目标",
        "organisation_responsibilities: 组织机构和职责",
        "documented_procedures: 服务手册、服务流程图",
    ],
    "adequate": True,
    "findings": "文件符合要求",
}
FINDINGS_LOSING_40 = findings_losing(40)  # 960 points: four stars kept
MATERIALS = {"report_responsibility": True, "materials_complete": True, "materials_notes": None}
GRANT_FOUR_STARS = {"outcome": "grant", "star_level": 4, "reasons": "符合要求"}


def programme(day: Callable[[int], str]) -> dict[str, Any]:
    return {
        "mystery_shopping": True,
        "random_survey": True,
        "document_review_date": day(10),
        "initial_audit_start": day(28),
        "initial_audit_end": day(29),
        "man_days": 3.0,
        "sizing_notes": "规模中等、2 个场所、无倒班",
        "shift_work_notes": None,
        "shifts": [],
    }


def team(members: list[dict[str, Any]], start: str, end: str, objectives: str) -> dict[str, Any]:
    return {
        "members": members,
        "objectives": objectives,
        "criteria": "GB/T 27922-2011、实施规则及客户服务文件",
        "scope_and_boundaries": "全部场所",
        "onsite_start": start,
        "onsite_end": end,
        "audit_languages": ["zh"],  # R-7.2.1(4)
        "considerations": None,
    }


def initial_team(p: People, day: Callable[[int], str]) -> dict[str, Any]:
    members = [
        {"auditor_id": p.leader_id, "role": "leader"},
        {"auditor_id": p.auditor_id, "role": "auditor"},
        {"auditor_id": p.expert_id, "role": "tech_expert"},
    ]
    return team(members, day(28), day(29), "确认是否满足四星级要求")


def surveillance_team(p: People, start: date) -> dict[str, Any]:
    members = [
        {"auditor_id": p.leader_id, "role": "leader"},
        {"auditor_id": p.auditor_id, "role": "auditor"},
    ]
    end = start + timedelta(days=1)
    return team(members, start.isoformat(), end.isoformat(), "监督审查")


def evidence(audit_day: str) -> dict[str, Any]:
    return {
        "audit_day": audit_day,
        "findings": FINDINGS_LOSING_40,
        "special_deductions": [],
        "special_bonus": [],
        "random_survey": None,
        "daily_communication": "每日沟通",
        "escalation": "none",
        "escalation_details": None,
        "terminate_reason": None,
        "more_days": False,
    }


def client_actor(serial: int) -> Actor:
    return Actor(f"client_{serial}", frozenset({"client"}))


def add_clients(serials, now: datetime) -> None:
    """One client account per organisation (an organisation applies one at a time); the
    password is hashed once for all (the simulation never signs in)."""
    from certflow.models import User

    password_hash = User(username="x", display_name="x", created_at=now)
    password_hash.set_password("pw")
    for serial in serials:
        user = User(username=f"client_{serial}", display_name=f"客户{serial}", created_at=now)
        user.roles = {"client"}
        user.password_hash = password_hash.password_hash
        db.session.add(user)
    db.session.commit()


# -- every deduction finding (FINDINGS_LOSING_40 loses points) yields an NC to correct ---
NC_REPORT_CONFIRMED = {"confirmed": True, "comments": None}


def nc_answers(to_answer: list[dict[str, Any]], evidence_file: Callable[[], int]) -> dict:
    """The client answers every NC awaiting its answer (`nc_to_answer` of the task's data),
    each with its own evidence file."""
    return {
        "answers": [
            {
                "nc_id": item["nc_id"],
                "root_cause": "培训不到位",
                "correction": "补充记录",
                "corrective_action": "每季度培训并检查",
                "evidence_files": [evidence_file()],
            }
            for item in to_answer
        ]
    }


def nc_verdicts(to_verify: list[dict[str, Any]]) -> dict:
    """The team leader accepts every answer: documentary for a general NC, on site with the
    record for a serious one (§8.7.3)."""
    from domain.models import Nonconformity

    verdicts = []
    for item in to_verify:
        serious = db.session.get(Nonconformity, item["nc_id"]).nature == "serious"
        verdicts.append(
            {
                "nc_id": item["nc_id"],
                "accepted": True,
                "method": "on_site" if serious else "documentary",
                "note": "证据时间顺序与真实性已核",
                "onsite_record": "现场验证记录" if serious else None,
            }
        )
    return {"verdicts": verdicts}


def previous_cycle_review(certificate) -> dict[str, Any]:
    """R-8.11: the audit department checks that every NC of the ending cycle (one per deduction
    finding of each audit) was corrected effectively; certificate and mark used properly."""
    from domain.recertification_review import cycle_nonconformities

    return {
        "nc_checks": [
            {"nc_id": nc.id, "result": "effective", "note": "复查记录"}
            for nc in cycle_nonconformities(db.session, certificate)
        ],
        "certificate_use": "proper",
        "mark_use": "proper",
        "use_findings": None,
    }


# -- the on-site audit's days: what the shopper, the team leader and the client fill in --------
ATTENDEES = [{"name": "王总", "organisation": "受审核方", "role": "总经理"}]


def shopping(today: date) -> dict[str, Any]:
    return {
        "visit_date": today.isoformat(),
        "shopper": "安暗访",
        "service_experienced": "报修 repair call",
        "observations": "服务规范 proper service",
        "random_survey_done": True,
        "survey_sample_size": 30,
        "satisfied_count": 28,
    }


def opening(today: date) -> dict[str, Any]:
    return {
        "meeting_date": today.isoformat(),
        "attendees": ATTENDEES,
        "checklist": dict.fromkeys(OPENING_MEETING_ITEMS, True),
        "notes": None,
    }


def conclusion(today: date) -> dict[str, Any]:
    """Recommend, the team raising no NC itself: the NC of each deduction finding is derived."""
    return discussed_with_client(
        {
            "conclusion": "recommend",
            "downgrade_requested": False,
            "nonconformities": [],
            "follow_up": "无 none",
            "programme_adjustments": "无 none",
            "disagreements": None,
        },
        today.isoformat(),
    )


def closing(today: date) -> dict[str, Any]:
    return {
        "meeting_date": today.isoformat(),
        "attendees": ATTENDEES,
        "items_covered": dict.fromkeys(CLOSING_MEETING_ITEMS, True),
        "client_questions": None,
        "disagreements": None,
    }


def receipt(today: date) -> dict[str, Any]:
    return {"received_by": "联系人", "received_on": today.isoformat()}
