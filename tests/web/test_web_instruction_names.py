"""Instructions name what a person knows (issue 10): the case by its application number and
organisation, auditors and sites by name — never an internal id ("审查 1", "#3", "its id") — in
Chinese and English, on the real diagrams through the web app, on both databases."""

import re

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import Application, Audit, Site
from tests.certification_case import NO_SHIFTS, Case, deploy_everything, make_people
from tests.web.test_web_evidence_checklist import CaseBrowser
from tests.web_support import text

ORG = "福州优服电器有限公司"


@pytest.fixture
def case(app, ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    return case


def leader(app) -> CaseBrowser:
    web = CaseBrowser(app)
    assert web.login("zhang_leader", "pw-zhang_leader").status_code == 302
    return web


def instructions(web: CaseBrowser, task_id: str, lang: str = "zh_CN") -> str:
    page = text(web.get(f"/tasks/{task_id}?lang={lang}"))
    found = re.search(r'<div class="markdown">(.*?)</div>\s*</section>', page, re.S)
    assert found, page[:2000]
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_audit_tasks_name_the_case_by_application_number_and_organisation(app, case):
    number = db.session.scalars(select(Application.number)).one()
    audit_id = db.session.scalars(select(Audit.id)).one()
    web = leader(app)
    plan = case.open_task("Task_AuditPlan")
    site_ids = [s.id for s in db.session.scalars(select(Site)).all()]
    for lang in ("zh_CN", "en"):
        shown = instructions(web, plan.id, lang)
        assert "场所编号" not in shown and "its id" not in shown
        assert not any(f"#{site_id}" in shown for site_id in site_ids), shown

    case.plan_and_prepare()
    case.opening_meeting()
    task = case.open_task("Task_CollectEvidence")
    chinese = instructions(web, task.id)
    assert f"收集审查证据（{number} · {ORG}）" in chinese, chinese
    assert f"审查 {audit_id}" not in chinese
    english = instructions(web, task.id, "en")
    assert f"Collect evidence ({number} · {ORG})" in english, english
    assert f"Audit {audit_id}" not in english


def test_the_training_lists_the_team_by_name(app, case):
    people = case.people
    case.at(0)
    web = leader(app)
    # Up to the training: plan, document review, mystery shopping (plan_and_prepare goes past it).
    sites = case.data("Task_AuditPlan")["application"]["sites"]
    case.complete(
        "Task_AuditPlan",
        people.leader,
        {
            "activities": [
                {
                    "date": case.day(28 + i),
                    "site": site["id"],
                    "activity": f"审查 {site['name']}",
                    "auditor_id": (people.leader_id, people.auditor_id)[i % 2],
                    "start": "09:00",
                    "duration_hours": 6,
                }
                for i, site in enumerate(sites)
            ],
            **NO_SHIFTS,
        },
    )
    case.at(10)
    case.review_documents(adequate=True)
    case.at(20)
    case.complete(
        "Task_MysteryShopping",
        people.shopper,
        {
            "visit_date": case.today(),
            "shopper": "安暗访",
            "service_experienced": "报修空调",
            "observations": "24 小时内上门",
            "random_survey_done": True,
            "survey_sample_size": 30,
            "satisfied_count": 27,
        },
    )
    training = case.open_task("Task_PreAuditTraining")
    chinese = instructions(web, training.id)
    assert "张组长（审查组长）" in chinese and "李审查" in chinese, chinese
    assert f"{people.leader_id}（" not in chinese
    english = instructions(web, training.id, "en")
    assert "张组长 (Team leader)" in english, english
