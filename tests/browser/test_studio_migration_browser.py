"""Issue 12, Must show, in Debian's chromium: a new version of `certification` is deployed in
which one task was removed (the client's "补充申请并重新提交", R-6.2.2b); two cases run on the
old version. The process owner opens the version's running cases in the studio: the dry run
shows one case movable (at the acceptance review, a step kept) and one refused, naming the
removed step it is at. She migrates the movable one after confirming; it continues on the new
version through the real diagrams to its certificate.

The versions are deployed as source sets (engine/sources.py), as the studio's review deploys
them; the cases are driven with the engine helpers of tests/certification_case.py."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import served
from tests.conftest import START_TIME, make_app

pytestmark = pytest.mark.browser
REMOVED = "Task_SupplementApplication"
OTHER_USCC = "91350100M000200Y4T"


def without_supplement(bpmn: str) -> str:
    """certification.bpmn where the notice of non-acceptance leads straight to the resubmission
    gateway (its default: the application ends): the client's supplement task is removed."""
    bpmn = re.sub(
        rf'\s*<bpmn:userTask id="{REMOVED}".*?</bpmn:userTask>', "", bpmn, count=1, flags=re.S
    )
    bpmn = re.sub(rf"\s*<bpmn:flowNodeRef>{REMOVED}</bpmn:flowNodeRef>", "", bpmn)
    bpmn = re.sub(r'\s*<bpmn:sequenceFlow id="Flow_ToGatewayResubmit"[^>]*/>', "", bpmn)
    bpmn = bpmn.replace(
        "<bpmn:incoming>Flow_ToGatewayResubmit</bpmn:incoming>",
        "<bpmn:incoming>Flow_ToSupplementApplication</bpmn:incoming>",
    )
    bpmn = bpmn.replace(
        f'id="Flow_ToSupplementApplication" sourceRef="Task_NotifyNotAccepted" '
        f'targetRef="{REMOVED}"',
        'id="Flow_ToSupplementApplication" sourceRef="Task_NotifyNotAccepted" '
        'targetRef="Gateway_Resubmit"',
    )
    for element in (f"{REMOVED}_di", "Flow_ToGatewayResubmit_di"):
        bpmn = re.sub(
            rf'\s*<bpmndi:BPMN(Shape|Edge) id="{element}".*?</bpmndi:BPMN(Shape|Edge)>',
            "",
            bpmn,
            count=1,
            flags=re.S,
        )
    assert REMOVED not in bpmn.replace("Flow_ToSupplementApplication", "")
    return bpmn


@dataclass
class Studio:
    url: str
    app: object
    movable: object  # the Lifecycle case at the acceptance review
    refused_instance: int


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Iterator[Studio]:
    from flask_migrate import upgrade

    from certflow.accounts import create_user
    from certflow.db import db
    from engine.sources import deploy_sources, version_sources
    from tests.certification_case import actor, deploy_everything, make_people
    from tests.lifecycle_case import Lifecycle

    class OtherClient(Lifecycle):
        """The second case: another organisation applies."""

        def application_answers(self, requested_level: int = 4):
            answers = super().application_answers(requested_level)
            return {**answers, "org_name": "厦门好修家电服务有限公司", "uscc": OTHER_USCC}

    root = tmp_path_factory.mktemp("migration")
    app = make_app(f"sqlite:///{root / 'migration.sqlite3'}", root / "instance", TESTING=False)
    with app.app_context():
        upgrade()
        clock = app.extensions["certflow.clock"]
        clock.set(START_TIME)
        engine = app.extensions["certflow.engine"]
        deploy_everything(engine)
        people = make_people(clock.now())
        create_user(
            db.session,
            "olga",
            password="pw",
            roles={"process_owner"},
            display_name="欧阳流程",
            now=clock.now(),
        )
        db.session.commit()
        uploads = Path(app.instance_path) / "uploads"
        movable = Lifecycle(engine, clock, people, uploads)
        movable.apply()  # at the acceptance review
        # Another organisation's client applies (one application at a time per organisation).
        other_people = replace(people, client=actor("hou_client", {"client"}, clock.now()))
        refused = OtherClient(engine, clock, other_people, uploads)
        refused.apply()
        refused.review(accepted=False)  # at the client's supplement task
        assert refused.active() == [REMOVED]
        sources = version_sources(db.session, "certification")
        files = {**sources.files}
        files[sources.main_path] = without_supplement(files[sources.main_path])
        result = deploy_sources(
            db.session,
            files,
            registry=engine.registry,
            actor="olga",
            comment="补充申请步骤取消",
            now=clock.now(),
        )
        assert [v.process_id for v in result.created] == ["certification"]
        db.session.commit()
        refused_instance = refused.instance_id
    with served(app, "migration") as url:
        yield Studio(url, app, movable, refused_instance)


def test_a_dry_run_refuses_the_case_at_the_removed_task_and_the_other_moves_to_its_certificate(
    page: Page, studio: Studio
):
    from certflow.db import db
    from domain.models import Certificate

    moved = studio.movable.instance_id
    page.goto(f"{studio.url}/login")
    page.fill("#username", "olga")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{studio.url}/studio")
    page.locator('tr[data-process="certification"] a[data-running-cases-link]').click()
    expect(page.locator("h1")).to_contain_text("运行中的案件")

    movable = page.locator(f'tr[data-instance="{moved}"]')
    refused = page.locator(f'tr[data-instance="{studio.refused_instance}"]')
    expect(movable).to_have_attribute("data-dry-run", "movable")
    expect(movable).to_contain_text("福州优服电器有限公司")
    expect(movable).to_contain_text("可迁移")
    expect(movable).to_contain_text("受理评审")  # where it is: a step version 2 keeps
    expect(refused).to_have_attribute("data-dry-run", "refused")
    expect(refused).to_have_attribute("data-refused-element", REMOVED)
    expect(refused).to_contain_text("厦门好修家电服务有限公司")
    expect(refused).to_contain_text("补充申请并重新提交")
    expect(refused).to_contain_text("已被删除")
    expect(refused.locator('input[name="instance"]')).to_have_count(0)
    # What would change, on the movable case's way: the removed step, not reached by it.
    movable.locator("details[data-changes] summary").click()
    expect(
        movable.locator(f'li[data-change-kind="removed"][data-element="{REMOVED}"]')
    ).to_be_visible()

    # Without the confirmation nothing moves.
    movable.locator('input[name="instance"]').check()
    page.get_by_role("button", name="迁移选中的案件").click()
    expect(page.locator(".field-error")).to_contain_text("请确认")
    page.locator(f'tr[data-instance="{moved}"] input[name="instance"]').check()
    page.locator("[data-migrate-confirm]").check()
    page.get_by_role("button", name="迁移选中的案件").click()
    result = page.locator(f'[data-migration-results] tr[data-instance="{moved}"]')
    expect(result).to_have_attribute("data-result", "migrated")
    expect(result).to_contain_text("已迁移到版本 2")
    # Listed among the cases on version 2, with its way back; the refused one stays.
    expect(page.locator(f'[data-migrated-cases] tr[data-instance="{moved}"]')).to_be_visible()
    expect(page.locator(f'tr[data-instance="{studio.refused_instance}"]')).to_have_attribute(
        "data-dry-run", "refused"
    )
    # The same page in English.
    page.goto(f"{studio.url}/studio/processes/certification/versions/2/running?lang=en")
    expect(page.locator("h1")).to_contain_text("Running cases")
    expect(page.locator(f'tr[data-instance="{studio.refused_instance}"]')).to_contain_text(
        "is removed in version 2"
    )

    # The moved case continues on version 2 through the real diagrams to its certificate.
    with studio.app.app_context():
        case = studio.movable
        assert case.instance().process_version.version == 2
        case.through_grant()
        certificate = case.certificate()
        assert certificate is not None and certificate.status == "valid"
        assert case.instance().process_version.version == 2
        assert case.instance().status == "completed"
        numbers = db.session.scalars(select(Certificate.number)).all()
        assert numbers == [certificate.number]  # the refused case got none
        other = studio.app.extensions["certflow.engine"].get_instance(studio.refused_instance)
        assert (other.process_version.version, other.active_elements) == (1, [REMOVED])
