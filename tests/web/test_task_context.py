"""Issue 10: each staff task shows the case data it needs read-only, declared per task in
processes/task_context.yaml — the verifier sees the client's answers and files, the decider the
report, the score and the NC status, the acceptance review the application and its files; a
client never gets a panel."""

import re
from pathlib import Path

from flask import g
from sqlalchemy import select

from certflow.db import db
from domain.attachments import store_attachment
from domain.models import Application
from tests.certification_case import one_nc, through_onsite
from tests.web_support import Browser, text
from webapp.task_context import PANELS, load_declarations

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
ANSWER = "培训不到位 training gap"


def test_every_declared_task_exists_in_its_diagram_and_names_known_panels():
    declared = load_declarations()
    assert declared, "processes/task_context.yaml declares nothing"
    for process_id, tasks in declared.items():
        bpmn = (PROCESSES / f"{process_id}.bpmn").read_text(encoding="utf-8")
        for element_id, panels in tasks.items():
            assert f'<bpmn:userTask id="{element_id}"' in bpmn, (process_id, element_id)
            assert panels and set(panels) <= set(PANELS)


def signed_in(app, username: str, password: str) -> Browser:
    # The engine fixtures keep an app context pushed, which the test client's requests reuse:
    # forget the previous browser's user and CSRF token (flask_login and flask_wtf cache them
    # on `g`).
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    browser = Browser(app)
    answer = browser.login(username, password)
    assert answer.status_code == 302, text(answer)[-500:]
    return browser


def page(app, username: str, task_id: str, query: str = "") -> str:
    password = "pw-" + username if username == "zhang_leader" else "pw"  # tests/factories.py
    browser = signed_in(app, username, password)
    g.pop("_flask_babel", None)  # the language of the sign-in request, cached on `g`
    response = browser.get(f"/tasks/{task_id}{query}")
    assert response.status_code == 200, text(response)
    return text(response)


def panel(html: str, panel_id: str) -> str:
    match = re.search(rf'<section class="card case-data" id="{panel_id}".*?</section>', html, re.S)
    assert match, f"no panel {panel_id}"
    return match.group(0)


def test_the_acceptance_review_shows_the_application_and_its_files(case, app):
    case.apply()
    review = case.open_task("Task_AcceptanceReview")
    html = panel(page(app, "ma_market", review.id), "context-application")
    scope = "家用电器的安装、维修、退换货及废旧回收服务"
    for shown in ("福州优服电器有限公司", scope, "总部服务中心"):
        assert shown in html, shown
    for filename in ("营业执照.pdf", "服务手册.pdf", "服务流程图.pdf"):
        assert filename in html, filename
    assert 'href="/files/' in html


def test_the_verifier_sees_the_clients_answers_and_files(case, app):
    # 20 points: the item of the team's one NC is the only deduction (R-8.7: one NC for it)
    through_onsite(case, points_lost=20, nonconformities=one_nc())
    case.receive_report()
    [nc_id] = case.confirm_ncs()
    application = db.session.scalars(select(Application)).one()
    evidence = store_attachment(
        db.session,
        case.uploads,
        filename="培训记录.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.4 training records",
        kind="nc_evidence",
        uploaded_by=case.people.client.username,
        now=case.clock.now(),
        organisation_id=application.organisation_id,
    )
    db.session.commit()
    answer = {
        "nc_id": nc_id,
        "root_cause": ANSWER,
        "correction": "补充记录 records completed",
        "corrective_action": "每季度培训 quarterly training",
        "evidence_files": [evidence.id],
    }
    case.complete("Task_SubmitCorrections", case.people.client, {"answers": [answer]})
    verify = case.open_task("Task_VerifyCorrections")
    html = panel(page(app, "zhang_leader", verify.id), "context-nc-answers")
    assert "未建立售后服务组织架构图" in html  # the nonconformity
    assert ANSWER in html and "每季度培训 quarterly training" in html
    assert "培训记录.pdf" in html and f'href="/files/{evidence.id}"' in html
    # A second round shows the verifier's note on the rejected answer.
    case.verify_ncs([nc_id], accepted=False)
    case.answer_ncs([nc_id])
    second = case.open_task("Task_VerifyCorrections")
    again = panel(page(app, "zhang_leader", second.id), "context-nc-answers")
    assert "未分析根本原因 no root-cause analysis" in again
    assert "培训记录.pdf" in again  # the files of the earlier round stay listed


def test_the_decider_sees_report_score_and_nc_status_and_the_client_sees_no_panel(case, app):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    decision = case.open_task("Task_CertificationDecision")
    html = page(app, "jue_decider", decision.id)
    audit = panel(html, "context-audit")
    assert re.search(r'id="context-report">审查报告: <a href="/cases/\d+/documents/\d+">', audit)
    score = re.search(r'id="context-score">(.*?)</dl>', audit, re.S).group(1)
    assert "92" in score and "★★★★" in score and "推荐认证" in score
    assert "已关闭（已验证）" in audit and "张组长" in audit
    assert "context-application" in html
    english = panel(page(app, "jue_decider", decision.id, "?lang=en"), "context-audit")
    assert "The audit" in english and "Closed (verified)" in english and "Team leader" in english

    client_view = signed_in(app, "wang_client", "pw")
    for row in _client_tasks(case):  # the client's own task pages never carry a panel
        assert "case-data" not in text(client_view.get(f"/tasks/{row.id}"))


def _client_tasks(case):
    from engine.models import HumanTask

    return db.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == case.instance_id, HumanTask.candidate_role == "client"
        )
    ).all()


def test_the_verifier_sees_the_files_of_every_round_in_the_order_they_were_sent(case, app):
    """Rounds answered on the same day (equal completion times) still list their files round
    by round: the order of submission, not of task ids (found by the full browser walk)."""
    # 20 points: the item of the team's one NC is the only deduction (R-8.7: one NC for it)
    through_onsite(case, points_lost=20, nonconformities=one_nc())
    case.receive_report()
    [nc_id] = case.confirm_ncs()
    organisation_id = db.session.scalars(select(Application.organisation_id)).one()
    names = [f"round-{n}.pdf" for n in range(1, 5)]  # 4 rounds: 1 in 24 to be right by chance
    for n, name in enumerate(names):
        if n:
            case.verify_ncs([nc_id], accepted=False)
        evidence = store_attachment(
            db.session,
            case.uploads,
            filename=name,
            content_type="application/pdf",
            data=b"%PDF-1.4 " + name.encode(),
            kind="nc_evidence",
            uploaded_by=case.people.client.username,
            now=case.clock.now(),  # the clock stands still: every round on the same instant
            organisation_id=organisation_id,
        )
        db.session.commit()
        answer = {
            "nc_id": nc_id,
            "root_cause": f"{ANSWER} {n}",
            "correction": "补充记录 records completed",
            "corrective_action": "每季度培训 quarterly training",
            "evidence_files": [evidence.id],
        }
        case.complete("Task_SubmitCorrections", case.people.client, {"answers": [answer]})
    verify = case.open_task("Task_VerifyCorrections")
    html = panel(page(app, "zhang_leader", verify.id), "context-nc-answers")
    assert re.findall(r"round-\d\.pdf", html) == names


def test_a_task_reads_only_the_records_its_panels_show(case, app):
    """Issue 16: the acceptance review shows the application panel only; no audit, no
    nonconformities are read for it."""
    from tests.web_support import sent_statements

    case.apply()
    review = case.open_task("Task_AcceptanceReview")
    with sent_statements(db.engine) as sent:
        html = page(app, "ma_market", review.id)
    assert "福州优服电器有限公司" in panel(html, "context-application")
    assert any("FROM application" in s for s in sent)
    read = [s.lstrip() for s in sent]
    assert not [s for s in read if s.startswith(("SELECT audit.", "SELECT nonconformity."))]
