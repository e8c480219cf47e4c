"""The people of a certification body and their first steps, shared by the whole-case builders
(scenarios/certification_case.py, lifecycle_case.py), the tests and the compliance demo: users
of every role with the audit team's HR records (R-7.2.2), the deployed processes, and the
answers the team leader gives after talking to the client."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from certflow.accounts import create_user
from certflow.db import db
from domain.indicators import load_indicator_sets
from domain.models import Auditor
from domain.scoring import DEFAULT_INDICATOR_SET_PATH, load_indicator_set
from engine.service import Actor

ROOT = Path(__file__).resolve().parent.parent
VALID_USCC = "91350100M000100Y43"
PROCESSES = ROOT / "processes"
# the plan's answer when the programme names no shifts.
NO_SHIFTS = {"shift_coverage": [], "shifts_not_covered_reason": None}
SITES = [
    {"name": "总部服务中心", "address": "福州市鼓楼区五四路 1 号", "is_fixed": True},
    {"name": "仓山服务网点", "address": "福州市仓山区浦上大道 8 号", "is_fixed": True},
]


@dataclass
class People:
    client: Actor
    market: Actor
    scheduler: Actor
    leader: Actor
    auditor: Actor
    expert: Actor
    shopper: Actor
    audit_dept: Actor
    decider: Actor
    leader_id: int
    auditor_id: int
    expert_id: int


# The people of the scenarios sign in with this in the tests (the browser walks); the compliance
# demo (cli/compliance_demo.py) replaces every password it created with a random one.
SCENARIO_PASSWORD = "pw"  # noqa: S105


def actor(username: str, roles: set[str], now) -> Actor:
    create_user(
        db.session,
        username,
        password=SCENARIO_PASSWORD,
        roles=roles,
        display_name=username,
        now=now,
    )
    return Actor(username, frozenset(roles))


def make_people(now) -> People:
    """Users of every role, with HR records for the audit team (R-7.2.2)."""
    leader = make_auditor(
        db.session,
        now,
        name="张组长",
        username="zhang_leader",
        roles=("team_leader", "auditor"),
        registration="CCAA-SC-1001",
        leader=True,
    )
    auditor = make_auditor(
        db.session, now, name="李审查", username="li_auditor", registration="CCAA-SC-1002"
    )
    expert = make_auditor(
        db.session,
        now,
        name="陈专家",
        username="chen_expert",
        roles=("tech_expert",),
        expert=True,
    )
    people = People(
        client=actor("wang_client", {"client"}, now),
        market=actor("ma_market", {"market"}, now),
        scheduler=actor("ji_scheduler", {"scheduler"}, now),
        leader=Actor("zhang_leader", frozenset({"team_leader", "auditor"})),
        auditor=Actor("li_auditor", frozenset({"auditor"})),
        expert=Actor("chen_expert", frozenset({"tech_expert"})),
        shopper=actor("an_shopper", {"mystery_shopper"}, now),
        audit_dept=actor("shen_auditdept", {"audit_dept"}, now),
        decider=actor("jue_decider", {"technical_dept"}, now),
        leader_id=leader.id,
        auditor_id=auditor.id,
        expert_id=expert.id,
    )
    db.session.commit()
    return people


def deploy_everything(engine) -> None:
    owner = Actor("olga_owner", frozenset({"process_owner"}))
    engine.deploy([PROCESSES], actor=owner, comment="e2e")
    load_indicator_sets(db.session, PROCESSES / "indicators", owner.username, engine.clock.now())
    db.session.commit()


def findings_losing(points_lost: int) -> list[dict[str, Any]]:
    """Evidence for every indicator item such that exactly `points_lost` of 1000 are lost:
    whole qualitative items first, the rest on one sampled item (failures / sample = share)."""
    indicator_set = load_indicator_set(DEFAULT_INDICATOR_SET_PATH)
    remaining = points_lost
    findings = []
    sampled_used = False
    for item in indicator_set.items:
        entry = {
            "item_code": item.code,
            "method": "records",
            "result": "conform",
            "sample_size": None,
            "failures": None,
            "evidence": f"查阅记录 records checked for {item.code}",
            "improvement_opportunity": None,
        }
        if item.kind == "qualitative" and 0 < item.points <= remaining:
            entry.update(result="nonconform", evidence=f"{item.code}: 未见记录 no record found")
            remaining -= item.points
        elif item.kind == "sampled" and not sampled_used and 0 < remaining <= item.points:
            entry.update(
                result="sampled",
                sample_size=item.points,
                failures=remaining,
                evidence=f"{item.code}: 抽样 {item.points} 份，{remaining} 份不符合",
            )
            remaining, sampled_used = 0, True
        findings.append(entry)
    assert remaining == 0, f"cannot lose exactly {points_lost} points"
    return findings


def make_auditor(
    session,
    now,
    *,
    name="李审查",
    username=None,
    roles=("auditor",),
    registration="CCAA-SC-0001",
    expires=None,
    leader=False,
    expert=False,
    fields=("after_sales_service",),
):
    """An auditor (or technical expert) with a login when `username` is given."""
    user = None
    if username:
        user = create_user(
            session,
            username,
            password=f"{SCENARIO_PASSWORD}-{username}",
            roles=set(roles),
            display_name=name,
            now=now,
        )
    auditor = Auditor(
        user_id=user.id if user else None,
        name=name,
        registration_number=None if expert else registration,
        level=None if expert else ("senior" if leader else "auditor"),
        registration_expires_on=None if expert else (expires or now.date() + timedelta(days=700)),
        team_leader_qualified=leader,
        fields=list(fields),
        is_technical_expert=expert,
        languages=["zh"],
    )
    session.add(auditor)
    session.flush()
    return auditor


def discussed_with_client(data: dict, day: str) -> dict:
    """Conclusion data as the team leader fills it in after talking to the client (R-8.5.3:
    the findings communicated to top management; R-8.5.4: each deduction discussed, the client
    agreeing unless a test says otherwise). Values already in `data` win."""
    nonconformities = [
        {"client_view": "agreed", **entry} if isinstance(entry, dict) else entry
        for entry in data.get("nonconformities") or []
    ]
    filled = {
        "top_management_communication": {
            "date": day,
            "participants": "王总（总经理）、审查组长",
            "findings_communicated": "通报审查发现和不符合",
        },
        **data,
    }
    if data.get("nonconformities") is not None:
        filled["nonconformities"] = nonconformities
    if "deduction_discussion" not in data:  # the section is filled in when there are deductions
        filled["deduction_discussion"] = (
            {"date": day, "attendees": "王总、质量经理、审查组"} if nonconformities else None
        )
    return filled
