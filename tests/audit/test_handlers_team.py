"""team.appoint (R-7.2.1–R-7.2.5) and the demo HR records (domain.demo)."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from certflow.accounts import ensure_demo_users
from certflow.db import db
from domain.demo import ensure_demo_auditors
from domain.errors import RuleViolation
from domain.models import Auditor, AuditTeamMember, ConflictOfInterest, Document
from handlers import get_handler
from tests.factories import make_application, make_audit, make_auditor, make_organisation
from tests.helpers import handler_context

OTHER_USCC = "91110108MA01C2D3EG"
ONSITE_START = date(2026, 2, 10)
ONSITE_END = date(2026, 2, 11)


def appoint(params, clock, actor="sam_scheduler"):
    ctx = handler_context(db.session, clock.now(), actor=actor)
    return get_handler("team.appoint")(params, ctx)


def team_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditTeamMember))


@pytest.fixture
def case(ctx, clock):
    now = clock.now()
    org = make_organisation(db.session, now)
    application = make_application(db.session, now, org)
    audit = make_audit(db.session, now, org, application)
    return org, application, audit


@pytest.fixture
def people(ctx, clock):
    now = clock.now()
    return {
        "leader": make_auditor(
            db.session, now, name="张组长", registration="CCAA-SC-1001", leader=True
        ),
        "auditor": make_auditor(db.session, now, name="李审查", registration="CCAA-SC-1002"),
        "expert": make_auditor(db.session, now, name="王专家", expert=True),
    }


def params_for(audit, members, **changes):
    params = {
        "audit_id": audit.id,
        "members": [{"auditor_id": person.id, "role": role} for person, role in members],
        "objectives": "评价客户售后服务是否符合 GB/T 27922-2011 四星级要求",
        "criteria": "GB/T 27922-2011；《消费者权益保护法》；客户《售后服务手册》",
        "scope_and_boundaries": "家用电器的安装、维修与退换货服务；总部服务中心及上门服务",
        "onsite_start": ONSITE_START.isoformat(),
        "onsite_end": ONSITE_END.isoformat(),
    }
    params.update(changes)
    return params


def rule_of(reason) -> str:
    """A reason's rule: worded in both languages (domain.said) it names it as "rule"."""
    return reason["rule"] if isinstance(reason, dict) else reason.split(":")[0]


def words(reason) -> str:
    return f"{reason['zh_CN']} {reason['en']}" if isinstance(reason, dict) else reason


def assert_refused(result, rule, person=None):
    assert result["appointed"] is False
    assert result["letter_document_id"] is None
    matching = [
        r for r in result["refusals"] if rule_of(r).startswith(rule) or f" {rule}" in words(r)
    ]
    assert matching, result["refusals"]
    if person is not None:
        assert any(person in words(r) for r in matching), matching
    assert team_rows() == 0
    assert db.session.scalars(select(Document)).all() == []


# -- a valid team ------------------------------------------------------------------------------
def test_valid_team_is_appointed_with_the_letter(case, people, clock):
    org, application, audit = case
    members = [
        (people["leader"], "leader"),
        (people["auditor"], "auditor"),
        (people["expert"], "tech_expert"),
    ]
    result = appoint(params_for(audit, members), clock)

    assert result["appointed"] is True
    assert result["refusals"] == []
    assert result["flags"] == []
    rows = db.session.scalars(select(AuditTeamMember).order_by(AuditTeamMember.id)).all()
    assert [(r.auditor_id, r.role, r.flags) for r in rows] == [
        (people["leader"].id, "leader", []),
        (people["auditor"].id, "auditor", []),
        (people["expert"].id, "tech_expert", []),
    ]
    assert {(r.appointed_by, r.appointed_at) for r in rows} == {("sam_scheduler", clock.now())}
    assert (audit.start_date, audit.end_date) == (ONSITE_START, ONSITE_END)
    assert audit.objectives.startswith("评价客户售后服务")
    assert audit.criteria.startswith("GB/T 27922-2011")
    assert audit.scope.startswith("家用电器")

    letter = db.session.get(Document, result["letter_document_id"])
    assert letter.kind == "appointment_letter"
    assert (letter.audit_id, letter.application_id, letter.organisation_id) == (
        audit.id,
        application.id,
        org.id,
    )
    body = letter.body
    for heading in ("审查目的", "审查依据", "审查范围和边界", "现场审查时间", "审查组成员"):
        assert heading in body
    for text in (
        "四星级要求",
        "客户《售后服务手册》",
        "总部服务中心及上门服务",
        "2026年2月10日 至 2026年2月11日",
        "| 张组长 | 审查组长 team leader | CCAA-SC-1001 |",
        "| 李审查 | 审查员 auditor | CCAA-SC-1002 |",
        "| 王专家 | 技术专家 technical expert |",
        application.number,
        org.name,
    ):
        assert text in body
    data = letter.data
    assert data["objectives"] == audit.objectives
    assert data["criteria"] == audit.criteria
    assert data["scope_and_boundaries"] == audit.scope
    assert (data["onsite_start"], data["onsite_end"]) == ("2026-02-10", "2026-02-11")
    assert data["members"] == [
        {
            "auditor_id": people["leader"].id,
            "name": "张组长",
            "role": "leader",
            "registration_number": "CCAA-SC-1001",
        },
        {
            "auditor_id": people["auditor"].id,
            "name": "李审查",
            "role": "auditor",
            "registration_number": "CCAA-SC-1002",
        },
        {
            "auditor_id": people["expert"].id,
            "name": "王专家",
            "role": "tech_expert",
            "registration_number": None,
        },
    ]


def test_one_auditor_team_of_a_qualified_leader(case, people, clock):
    _, _, audit = case
    result = appoint(params_for(audit, [(people["leader"], "leader")]), clock)
    assert result["appointed"] is True
    assert team_rows() == 1


def test_registration_expiring_on_the_last_audit_day_is_still_valid(case, clock):
    _, _, audit = case
    leader = make_auditor(db.session, clock.now(), name="赵", leader=True, expires=ONSITE_END)
    assert appoint(params_for(audit, [(leader, "leader")]), clock)["appointed"] is True


def test_team_already_appointed_is_an_error(case, people, clock):
    _, _, audit = case
    appoint(params_for(audit, [(people["leader"], "leader")]), clock)
    with pytest.raises(RuleViolation) as err:
        appoint(params_for(audit, [(people["leader"], "leader")]), clock)
    assert err.value.rule == "R-7.2.1"


# -- refusals (nothing written) ----------------------------------------------------------------
def test_registration_expired_on_the_audit_dates(case, people, clock):
    _, _, audit = case
    expired = make_auditor(
        db.session, clock.now(), name="过期审查员", expires=ONSITE_END - timedelta(days=1)
    )
    members = [(people["leader"], "leader"), (expired, "auditor")]
    result = appoint(params_for(audit, members), clock)
    assert_refused(result, "R-7.2.2", "过期审查员")
    assert "2026-02-10" in words(result["refusals"][0])


def test_registration_missing(case, people, clock):
    _, _, audit = case
    unregistered = make_auditor(db.session, clock.now(), name="未注册", registration=None)
    members = [(people["leader"], "leader"), (unregistered, "auditor")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.2", "未注册")


def test_single_auditor_not_qualified_as_leader(case, people, clock):
    _, _, audit = case
    result = appoint(params_for(audit, [(people["auditor"], "leader")]), clock)
    assert_refused(result, "R-7.2.3", "李审查")
    assert any("team leader" in words(r) for r in result["refusals"])


def test_single_leader_lacking_the_field(case, clock):
    _, _, audit = case
    leader = make_auditor(db.session, clock.now(), name="跨领域组长", leader=True, fields=("qms",))
    result = appoint(params_for(audit, [(leader, "leader")]), clock)
    assert_refused(result, "R-7.2.3", "跨领域组长")
    assert any("after-sales service" in words(r) for r in result["refusals"])


def test_single_auditor_with_a_tech_expert_is_still_a_one_auditor_team(case, people, clock):
    _, _, audit = case
    members = [(people["auditor"], "leader"), (people["expert"], "tech_expert")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.3", "李审查")


def test_technical_expert_cannot_act_as_auditor(case, people, clock):
    _, _, audit = case
    members = [(people["leader"], "leader"), (people["expert"], "auditor")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.4", "王专家")


def test_technical_expert_cannot_lead(case, people, clock):
    _, _, audit = case
    members = [(people["expert"], "leader"), (people["auditor"], "auditor")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.4", "王专家")


def test_auditor_cannot_be_named_technical_expert(case, people, clock):
    _, _, audit = case
    members = [(people["leader"], "leader"), (people["auditor"], "tech_expert")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.4", "李审查")


def test_two_leaders(case, people, clock):
    _, _, audit = case
    second = make_auditor(db.session, clock.now(), name="钱组长", leader=True)
    members = [(people["leader"], "leader"), (second, "leader")]
    result = appoint(params_for(audit, members), clock)
    assert_refused(result, "R-7.2.1", "张组长")
    assert any("钱组长" in words(r) for r in result["refusals"])


def test_no_leader(case, people, clock):
    _, _, audit = case
    members = [(people["auditor"], "auditor"), (people["expert"], "tech_expert")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.1")


def test_no_members(case, clock):
    _, _, audit = case
    assert_refused(appoint(params_for(audit, []), clock), "R-7.2.1")


def test_unknown_auditor(case, people, clock):
    _, _, audit = case
    params = params_for(audit, [(people["leader"], "leader")])
    params["members"].append({"auditor_id": 987654, "role": "auditor"})
    result = appoint(params, clock)
    assert_refused(result, "R-7.2.2", "所选人员")  # issue 10: the reason shows no id
    assert "987654" not in repr(result["refusals"])


def test_leader_of_a_larger_team_must_be_leader_qualified(case, people, clock):
    _, _, audit = case
    other = make_auditor(db.session, clock.now(), name="孙审查", registration="CCAA-SC-1003")
    members = [(people["auditor"], "leader"), (other, "auditor")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.2", "李审查")


def test_the_same_person_twice(case, people, clock):
    _, _, audit = case
    members = [(people["leader"], "leader"), (people["leader"], "auditor")]
    assert_refused(appoint(params_for(audit, members), clock), "R-7.2.1", "张组长")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("objectives", ""),
        ("criteria", None),
        ("scope_and_boundaries", "  "),
        ("onsite_start", "next week"),
        ("onsite_end", "2026-02-09"),
    ],
)
def test_letter_contents_are_required(case, people, clock, field, value):
    _, _, audit = case
    params = params_for(audit, [(people["leader"], "leader")], **{field: value})
    assert_refused(appoint(params, clock), "R-7.2.5")


def test_all_reasons_are_given_at_once(case, people, clock):
    _, _, audit = case
    unregistered = make_auditor(db.session, clock.now(), name="未注册", registration=None)
    members = [(people["expert"], "auditor"), (unregistered, "auditor")]
    result = appoint(params_for(audit, members, objectives=""), clock)
    rules = {rule_of(r) for r in result["refusals"]}
    assert rules == {"R-7.2.1", "R-7.2.4", "R-7.2.2", "R-7.2.5"}
    assert team_rows() == 0


# -- impartiality flags (recorded, not refused) ------------------------------------------------
def test_audited_before_is_flagged_and_recorded(case, people, clock):
    org, application, audit = case
    now = clock.now()
    make_audit(
        db.session,
        now,
        org,
        application,
        team=[(people["auditor"], "auditor")],
        start=date(2023, 3, 1),
        kind="surveillance",
    )
    other_org = make_organisation(db.session, now, uscc=OTHER_USCC)
    other_application = make_application(db.session, now, other_org)
    make_audit(db.session, now, other_org, other_application, team=[(people["leader"], "leader")])

    members = [(people["leader"], "leader"), (people["auditor"], "auditor")]
    result = appoint(params_for(audit, members), clock)

    assert result["appointed"] is True
    assert [(f["auditor_id"], f["flag"]) for f in result["flags"]] == [
        (people["auditor"].id, "audited_before")
    ]
    assert "李审查" in words(result["flags"][0]["detail"])
    assert "2023-03-01" in words(result["flags"][0]["detail"])
    # Issue 10: instructions name people, never show their ids.
    assert result["flags"][0]["auditor_name"] == "李审查"
    assert result["team"] == [
        {"name": people["leader"].name, "role": "leader"},
        {"name": "李审查", "role": "auditor"},
    ]
    row = db.session.scalars(
        select(AuditTeamMember).where(
            AuditTeamMember.audit_id == audit.id,
            AuditTeamMember.auditor_id == people["auditor"].id,
        )
    ).one()
    assert [f["flag"] for f in row.flags] == ["audited_before"]


@pytest.mark.parametrize(("years_ago", "flagged"), [(1, True), (3, False)])
def test_conflict_of_interest_within_two_years_refuses_the_appointment(
    case, people, clock, years_ago, flagged
):
    """R-7.2.1(5), CNAS-CC01: consulted within 2 years → must not audit: refused, nothing
    recorded; older than 2 years → appointed without a flag."""
    org, _, audit = case
    until = ONSITE_START.replace(year=ONSITE_START.year - years_ago)
    db.session.add(
        ConflictOfInterest(
            auditor_id=people["auditor"].id,
            organisation_id=org.id,
            kind="consulted",
            until=until,
            note="售后服务体系咨询",
        )
    )
    db.session.flush()
    members = [(people["leader"], "leader"), (people["auditor"], "auditor")]
    result = appoint(params_for(audit, members), clock)

    rows = db.session.scalars(
        select(AuditTeamMember).where(AuditTeamMember.auditor_id == people["auditor"].id)
    ).all()
    if flagged:
        assert result["appointed"] is False and result["letter_document_id"] is None
        [refusal] = result["refusals"]
        assert rule_of(refusal) == "R-7.2.1(5)" and until.isoformat() in words(refusal)
        assert "must not audit" in words(refusal)
        assert [(f["auditor_id"], f["flag"]) for f in result["flags"]] == [
            (people["auditor"].id, "conflict_of_interest")
        ]
        assert rows == []
    else:
        assert result["appointed"] is True and result["flags"] == []
        assert [r.flags for r in rows] == [[]]


def test_flags_are_reported_with_a_refusal_too(case, people, clock):
    org, _, audit = case
    db.session.add(
        ConflictOfInterest(
            auditor_id=people["leader"].id,
            organisation_id=org.id,
            kind="employed",
            until=ONSITE_START,
        )
    )
    db.session.flush()
    result = appoint(params_for(audit, [(people["leader"], "leader")], objectives=""), clock)
    assert result["appointed"] is False
    assert [f["flag"] for f in result["flags"]] == ["conflict_of_interest"]


# -- demo HR records -------------------------------------------------------------------------
def test_demo_auditors_are_created_once_and_can_form_a_team(case, clock, tmp_path):
    _, _, audit = case
    ensure_demo_users(db.session, clock.now(), tmp_path / "demo-logins.txt")

    created = ensure_demo_auditors(db.session, clock.now())
    assert created == ["demo_team_leader", "demo_auditor", "demo_tech_expert"]
    assert ensure_demo_auditors(db.session, clock.now()) == []

    by_user = {a.user.username: a for a in db.session.scalars(select(Auditor)).all()}
    leader = by_user["demo_team_leader"]
    assert leader.team_leader_qualified and leader.level == "senior"
    assert leader.registration_expires_on == date(2028, 1, 5)
    assert "after_sales_service" in leader.fields
    assert by_user["demo_auditor"].registration_number
    assert by_user["demo_tech_expert"].is_technical_expert
    assert by_user["demo_tech_expert"].registration_number is None

    members = [
        (leader, "leader"),
        (by_user["demo_auditor"], "auditor"),
        (by_user["demo_tech_expert"], "tech_expert"),
    ]
    assert appoint(params_for(audit, members), clock)["appointed"] is True


def test_demo_auditors_without_demo_users_do_nothing(ctx, clock):
    assert ensure_demo_auditors(db.session, clock.now()) == []


# -- the team as a whole (field competence, language and culture) --------------------
def test_every_team_needs_a_member_competent_for_the_field(case, clock):
    """R-7.2.1(2), R-7.2.2: not only a one-auditor team (R-7.2.3) — any team."""
    org, application, audit = case
    now = clock.now()
    leader = make_auditor(
        db.session, now, name="孙组长", registration="CCAA-SC-1101", leader=True, fields=()
    )
    other = make_auditor(db.session, now, name="周审查", registration="CCAA-SC-1102", fields=())
    result = appoint(params_for(audit, [(leader, "leader"), (other, "auditor")]), clock)
    assert_refused(result, "R-7.2.1(2)")
    competent = make_auditor(db.session, now, name="吴审查", registration="CCAA-SC-1103")
    result = appoint(params_for(audit, [(leader, "leader"), (competent, "auditor")]), clock)
    assert result["appointed"] is True, result["refusals"]


def test_an_audit_language_nobody_speaks_needs_written_considerations(case, people, clock):
    """R-7.2.1(4): considered, not forbidden — flagged, and refused only without a
    justification; the justification is kept with the appointment letter."""
    org, application, audit = case
    members = [(people["leader"], "leader"), (people["auditor"], "auditor")]
    uyghur = {"audit_languages": ["zh", "ug"]}
    refused = appoint(params_for(audit, members, **uyghur, considerations="  "), clock)
    assert_refused(refused, "R-7.2.1(4)")
    assert "维吾尔语" in words(refused["refusals"][0]) and "Uyghur" in words(refused["refusals"][0])
    why = "安排维吾尔语翻译陪同现场审查 an interpreter accompanies the team"
    result = appoint(params_for(audit, members, **uyghur, considerations=why), clock)
    assert result["appointed"] is True, result["refusals"]
    [flag] = result["considerations"]["flags"]
    assert (flag["flag"], flag["languages"]) == ("language_not_covered", ["ug"])
    letter = db.session.get(Document, result["letter_document_id"])
    assert letter.data["considerations"]["text"] == why
    assert letter.data["considerations"]["audit_languages"] == ["zh", "ug"]


def test_a_language_a_member_speaks_raises_no_flag(case, people, clock):
    org, application, audit = case
    people["auditor"].languages = ["zh", "ug"]
    members = [(people["leader"], "leader"), (people["auditor"], "auditor")]
    result = appoint(params_for(audit, members, audit_languages=["zh", "ug"]), clock)
    assert result["appointed"] is True, result["refusals"]
    assert result["considerations"]["flags"] == []


# -- issue 10: reasons for people, one language per page --------------------------------------
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_reasons_and_flags_name_people_without_ids_in_each_language(case, people, clock):
    org, application, audit = case
    make_audit(
        db.session,
        clock.now(),
        org,
        application,
        team=[(people["auditor"], "auditor")],
        start=date(2023, 3, 1),
        kind="surveillance",
    )
    unregistered = make_auditor(db.session, clock.now(), name="未注册", registration=None)
    members = [
        (people["expert"], "auditor"),
        (unregistered, "auditor"),
        (people["auditor"], "auditor"),
    ]
    result = appoint(params_for(audit, members), clock)
    team_texts = [r for r in result["refusals"] if isinstance(r, dict)]
    team_texts += [f["detail"] for f in result["flags"]]
    assert {rule_of(r) for r in team_texts} >= {"R-7.2.1", "R-7.2.2", "R-7.2.4"}
    names = [people["expert"].name, "未注册", people["auditor"].name]
    for text in team_texts:
        assert not re.search(r"#\s*\d", text["zh_CN"] + text["en"]), text
        assert "R-" not in text["zh_CN"] + text["en"], text  # rules cited in words
        english = text["en"]
        for name in names:
            english = english.replace(name, "")
        assert not CJK.search(english), text  # English but for the names
        assert re.search(r"[A-Za-z]{3}", text["zh_CN"].replace("GB/T", "")) is None, text
    assert any(people["expert"].name in t["zh_CN"] for t in team_texts)
    [flag] = result["flags"]
    assert (
        flag["detail"]["zh_CN"]
        == f"{people['auditor'].name}曾以审查员身份参加该组织的监督审查（2023-03-01）"
    )


def test_an_audit_without_application_is_named_in_words_on_its_letter(case, people, clock):
    org, _, audit = case
    audit.application_id = None  # a special audit: no application names it
    db.session.flush()
    members = [(people["leader"], "leader"), (people["auditor"], "auditor")]
    result = appoint(params_for(audit, members), clock)
    assert result["appointed"] is True, result["refusals"]
    letter = db.session.get(Document, result["letter_document_id"])
    assert letter.title == f"审查委任书（{org.name}，初始审查）"
    assert not re.search(r"#\d", letter.title + letter.body)  # no "#<audit id>"
    assert "申请编号" not in letter.body and "审查类型：初始审查" in letter.body


def test_every_refusal_of_the_appointment_is_said_in_each_language(case, people, clock):
    """Issue 10: the letter texts, the dates and the team's composition are refused in words a
    page shows in one language — no parameter names, no language codes, no two languages."""
    org, application, audit = case
    now = clock.now()
    leader = make_auditor(
        db.session, now, name="孙组长", registration="CCAA-SC-1201", leader=True, fields=()
    )
    other = make_auditor(db.session, now, name="周审查", registration="CCAA-SC-1202", fields=())
    params = params_for(
        audit,
        [(leader, "leader"), (other, "auditor")],
        objectives="  ",
        onsite_start="3月1日",
        audit_languages=["zh", "ug"],
        considerations=None,
    )
    result = appoint(params, clock)
    assert result["appointed"] is False
    refusals = result["refusals"]
    assert all(isinstance(r, dict) for r in refusals), refusals  # none a bilingual string
    assert {rule_of(r) for r in refusals} >= {"R-7.2.5", "R-7.2.1(2)", "R-7.2.1(4)"}
    for refusal in refusals:
        zh, en = refusal["zh_CN"], refusal["en"]
        for developer_word in ("onsite_start", "scope_and_boundaries", "is empty", "ISO", "'ug'"):
            assert developer_word not in zh + en, refusal
        assert not CJK.search(en.replace("孙组长", "").replace("周审查", "")), refusal
        assert re.search(r"[A-Za-z]{3}", zh.replace("GB/T", "")) is None, refusal
    assert any("维吾尔语" in r["zh_CN"] and "Uyghur" in r["en"] for r in refusals)
