"""R-8.5.5(3), R-8.7 in the browser: an audit scoring below the lowest star level (69 of 100)
is not refused at once. The team leader records a nonconformity and a conclusion that depends on
their correction — every other deduction finding gets its own NC (R-8.7) —, the client confirms
and answers them all, the team leader verifies them and rescores the corrected result on
"整改后复评" (Task_RescoreAfterCorrections), and the case reaches the certification decision with
the rescored level.

The case is brought to the end of the on-site evidence with the engine helpers of
tests/certification_case.py (the browser part before it is walked by test_full_certification);
from the conclusion on, each step is done in Debian's chromium by the user of its role, found in
the inbox by the task's name, no id typed. Every task page is also read in English; the pages
are checked as in the full walk (no `{{`, no raw option value, no developer words, one language
at a time)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from tests.browser.conftest import served
from tests.browser.test_full_certification import (
    COMPLETE,
    Instance,
    check_all,
    fill_rows,
    look,
    open_task,
    problems_seen,
    sign_in,
    talked_to_the_client,
)
from tests.conftest import START_TIME, make_app

pytestmark = pytest.mark.browser
POINTS_LOST = 310  # of 1000: a final score of 69, below one star (70)
NC_CODE = "5.1.1.1"
# R-8.7: findings_losing(310) deducts on 20 items; the team's NC stands for 5.1.1.1's finding,
# each of the 19 others gets its derived NC.
NC_COUNT = 20
LOGINS = {
    "zhang_leader": "pw-zhang_leader",  # team leader (tests/certification_case.make_people)
    "wang_client": "pw",
    "jue_decider": "pw",  # technical department, took no part in the audit
}


@pytest.fixture(scope="module")
def inst(tmp_path_factory) -> Iterator[Instance]:
    """A case of the real processes at the end of its on-site evidence (score 69)."""
    from flask_migrate import upgrade

    from certflow.db import db
    from certflow.models import User
    from domain.models import Application
    from tests.certification_case import Case, deploy_everything, findings_losing, make_people

    root = tmp_path_factory.mktemp("rescoring")
    app = make_app(f"sqlite:///{root / 'rescore.sqlite3'}", root / "instance", TESTING=False)
    with app.app_context():
        upgrade()
        clock = app.extensions["certflow.clock"]
        clock.set(START_TIME)
        engine = app.extensions["certflow.engine"]
        deploy_everything(engine)
        case = Case(engine, clock, make_people(clock.now()), Path(app.instance_path) / "uploads")
        case.apply(requested_level=4)
        # The client account belongs to the organisation its application registered:
        # what the sign-up of the full walk does in the browser.
        organisation_id = db.session.scalars(select(Application.organisation_id)).one()
        db.session.execute(
            update(User)
            .where(User.username == "wang_client")
            .values(organisation_id=organisation_id)
        )
        db.session.commit()
        case.review()
        case.contract()
        case.programme()
        case.appoint()
        case.plan_and_prepare()
        case.opening_meeting()
        case.evidence(findings_losing(POINTS_LOST))
        app.extensions["rescore.case"] = case
    with served(app, "rescore") as url:
        yield Instance(url, app, root, LOGINS)


def move_to(inst: Instance, day: int) -> None:
    """The test's time machine: day `day` of the case on the simulated clock."""
    with inst.app.app_context():
        inst.app.extensions["rescore.case"].at(day)


def submit(page: Page, inst: Instance, who: str) -> None:
    page.get_by_role("button", name=COMPLETE).click()
    expect(page.locator(".flash-success")).to_be_visible()
    look(page, inst, who)


def leader_concludes_on_corrections(page: Page, inst: Instance) -> None:
    sign_in(page, inst, "zhang_leader")
    open_task(page, inst, "staff", "审查结论")
    expect(page.locator(".instructions")).to_contain_text("判定星级：低于最低星级")
    page.check('[name="f/conclusion"][value="recommend"]')
    fill_rows(
        page,
        "nonconformities",
        [{"item_code": NC_CODE, "description": "未建立售后服务组织架构图", "evidence": "查阅文件"}],
    )
    page.check('[name="f/nonconformities/0/nature"][value="general"]')  # §8.7.2
    page.check('[name="f/nonconformities/0/client_view"][value="agreed"]')
    page.fill('[name="f/follow_up"]', "跟踪不符合整改，整改后复评")
    page.fill('[name="f/programme_adjustments"]', "无")
    talked_to_the_client(page, inst)
    submit(page, inst, "staff")
    # §8.7.1: the client confirms the NC report before the closing meeting.
    sign_in(page, inst, "wang_client")
    open_task(page, inst, "client", "确认不符合报告")
    page.check('[name="f/confirmed"]')
    submit(page, inst, "client")
    sign_in(page, inst, "zhang_leader")
    move_to(inst, 29)
    open_task(page, inst, "staff", "末次会议")
    page.fill('[name="f/meeting_date"]', inst.today())
    fill_rows(page, "attendees", [{"name": "王总", "organisation": "优服", "role": "总经理"}])
    check_all(page, '[name^="f/items_covered/"]')
    submit(page, inst, "staff")
    # the leader submits the report and materials, answering for the report.
    open_task(page, inst, "staff", "提交审查报告和审查材料")
    page.check('[name="f/report_responsibility"]')
    page.check('[name="f/materials_complete"]')
    submit(page, inst, "staff")


def client_confirms_and_answers(page: Page, inst: Instance) -> None:
    sign_in(page, inst, "wang_client")
    open_task(page, inst, "client", "签收审查报告")
    page.fill('[name="f/received_by"]', "王芳")
    page.fill('[name="f/received_on"]', inst.today())
    submit(page, inst, "client")
    open_task(page, inst, "client", "提交原因分析与纠正措施")
    evidence = inst.root / "org-chart-approved.pdf"  # evidence files with the answer
    evidence.write_bytes(b"%PDF-1.4 evidence org-chart-approved.pdf")
    for i in range(NC_COUNT):  # every NC of the report, each chosen by its name
        add_row_if_missing(page, "answers", i, "root_cause")
        page.select_option(f'select[name="f/answers/{i}/nc_id"]', index=i + 1)
        page.fill(f'[name="f/answers/{i}/root_cause"]', "未设部门且职责未分配")
        page.fill(f'[name="f/answers/{i}/correction"]', "设立售后服务部门并发布组织架构图")
        page.fill(f'[name="f/answers/{i}/corrective_action"]', "每季度检查组织架构和职责")
        page.set_input_files(f'[name="f/answers/{i}/evidence_files"]', [str(evidence)])
    submit(page, inst, "client")


def add_row_if_missing(page: Page, array: str, i: int, field: str) -> None:
    if page.locator(f'[name="f/{array}/{i}/{field}"]').count() == 0:
        page.locator(f"#f-{array} [data-add-row]").click()


def leader_verifies_and_rescores(page: Page, inst: Instance) -> None:
    sign_in(page, inst, "zhang_leader")
    open_task(page, inst, "staff", "验证纠正措施")
    for i in range(NC_COUNT):  # every answer, general NCs: documentary (R-8.7 §8.7.3)
        add_row_if_missing(page, "verdicts", i, "note")
        page.select_option(f'select[name="f/verdicts/{i}/nc_id"]', index=i + 1)
        page.check(f'[name="f/verdicts/{i}/accepted"]')
        page.check(f'[name="f/verdicts/{i}/method"][value="documentary"]')
        page.fill(f'[name="f/verdicts/{i}/note"]', "整改证据已核，时间顺序与真实性无误")
    submit(page, inst, "staff")

    open_task(page, inst, "staff", "整改后复评")  # read in Chinese and in English
    zh, en = inst.visited[-2], inst.visited[-1]
    assert (zh.lang, en.lang) == ("zh", "en") and "/tasks/" in zh.url
    instructions = page.locator(".instructions")
    expect(instructions).to_contain_text("福州优服电器有限公司")
    for field, label in (("score", "整改后得分"), ("special_deductions", "仍有的特别扣分项")):
        expect(page.locator(f'label[for="f-{field}"]')).to_contain_text(label)
    # The level the audit reached in words, in each language (never "0" with a legend).
    zh_text = next(t for t in zh.form_texts if "整改后复评 — " in t)
    en_text = next(t for t in en.form_texts if "Rescore after corrections — " in t)
    assert f"审查星级：低于最低星级 · 不符合：{NC_COUNT}" in zh_text and "0 =" not in zh_text
    assert "Audit star level: below the lowest star level" in en_text and "0 =" not in en_text
    page.fill('[name="f/score"]', "92")
    page.fill('[name="f/special_deductions"]', "0")
    page.fill('[name="f/basis"]', "整改已验证，5.1.1.1 重新评为符合")
    submit(page, inst, "staff")


def decider_sees_the_rescored_level_and_grants(page: Page, inst: Instance) -> None:
    move_to(inst, 45)
    sign_in(page, inst, "jue_decider")
    open_task(page, inst, "staff", "认证决定")
    instructions = page.locator(".instructions")
    expect(instructions).to_contain_text("审查星级：低于最低星级")
    expect(instructions).to_contain_text("整改后复评：四星级，最终推荐：推荐认证")
    page.check('[name="f/outcome"][value="grant"]')
    page.fill('[name="f/star_level"]', "4")
    page.fill('[name="f/reasons"]', "整改后达到四星级")
    submit(page, inst, "staff")


def test_below_the_lowest_level_the_team_leader_rescores_in_the_browser(page: Page, inst):
    from certflow.db import db
    from domain.models import Audit, Certificate, Nonconformity
    from engine.models import Incident

    typing = page.fill

    def fill(selector: str, value: str, **options) -> None:
        inst.typed.add(value)
        typing(selector, value, **options)

    page.fill = fill  # what is typed is data: shown back, it is not a label
    # The case data typed by the engine helpers (the application), shown back on the pages.
    inst.typed |= {
        "福州优服电器有限公司",
        "家用电器售后服务 after-sales service of home appliances",
    }
    with inst.app.app_context():
        audit = db.session.scalars(select(Audit)).one()
        assert float(audit.final_score) == 69.0  # below one star: not refused, corrected first

    leader_concludes_on_corrections(page, inst)
    with inst.app.app_context():  # one NC per deduction finding, the team's not doubled
        ncs = db.session.scalars(select(Nonconformity)).all()
        assert len(ncs) == NC_COUNT
        assert len({nc.finding_id for nc in ncs}) == NC_COUNT
        # The derived NCs' descriptions are records (the requirement's Chinese text), shown as
        # written on the English pages too, like the team's typed NC: data, not labels.
        inst.typed |= {nc.description for nc in ncs}
    client_confirms_and_answers(page, inst)
    leader_verifies_and_rescores(page, inst)
    with inst.app.app_context():
        db.session.rollback()
        audit = db.session.scalars(select(Audit)).one()
        assert (audit.star_level_achieved, audit.conclusion) == (4, "recommend")
        assert audit.conclusion_notes["rescored"]["before"]["star_level"] == 0
    decider_sees_the_rescored_level_and_grants(page, inst)

    with inst.app.app_context():
        db.session.rollback()
        [certificate] = db.session.scalars(select(Certificate)).all()
        assert certificate.star_level == 4
        assert db.session.scalars(select(Incident)).all() == []
    english = [seen for seen in inst.visited if seen.lang == "en"]
    assert len(english) == 9  # every task page of the path (with the materials), in English too
    problems = problems_seen(inst)
    assert problems == [], "\n".join(problems)
