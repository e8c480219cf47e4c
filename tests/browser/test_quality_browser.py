"""Issue 13 in Debian's chromium: the quality manager opens the definitions register from the
workspace, compares two versions of a process (the changed element listed), filters the audit
trail by a user and downloads it as CSV, and downloads the event log as XES (read by pm4py)
and as CSV. A process of its own (a copy of review_flow under another id) keeps the other
browser tests' processes untouched."""

import csv
import io
import shutil
from pathlib import Path

import pm4py
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live
from tests.helpers import REVIEW_FLOW
from tests.web_support import actor

pytestmark = pytest.mark.browser
PROCESS = "quality_flow"


def _deploy_two_versions(live: Live, root: Path) -> int:
    """quality_flow v1, then v2 with the review task renamed; one case started on v2 whose
    review ada reassigns to max. Returns the case's instance id."""
    source = (REVIEW_FLOW / "review_flow.bpmn").read_text("utf-8").replace("review_flow", PROCESS)
    for version, name in ((1, "受理评审 Acceptance review"), (2, "受理评审（新） Review (new)")):
        folder = root / f"v{version}"
        shutil.copytree(REVIEW_FLOW / "forms", folder / "forms")
        text = source.replace('name="受理评审 Acceptance review"', f'name="{name}"')
        (folder / f"{PROCESS}.bpmn").write_text(text, "utf-8")
        with live.app.app_context():
            live.web.engine.deploy([folder], actor=actor("olga"), comment=f"v{version}")
    instance = live.web.start("QF-1", process=PROCESS, headcount=10, application_id="QF-1")
    with live.app.app_context():
        task = live.web.open_task(instance)
        live.web.engine.reassign(task, assignee=actor("max"), actor=actor("ada"))
    return instance


def _download(page: Page, selector: str, target: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    info.value.save_as(target)
    return target


def test_the_quality_manager_compares_versions_filters_the_trail_and_downloads_the_logs(
    page: Page, live: Live, login, tmp_path
):
    instance = _deploy_two_versions(live, tmp_path)
    login("quinn")
    page.goto("/quality")
    page.get_by_role("link", name="流程定义登记册").click()
    register = page.locator(f'section[data-process="{PROCESS}"]')
    expect(register.locator("tr[data-version]")).to_have_count(2)
    expect(register.locator('tr[data-version="2"] td[data-running]')).to_have_text("1")
    register.locator("[data-compare]").click()
    changed = page.locator('tr[data-diff-kind="changed"]')
    expect(changed).to_have_count(1)
    expect(changed).to_have_attribute("data-element", "Task_Review")
    expect(changed).to_contain_text("受理评审（新） Review (new)")

    page.goto("/quality/trail")
    page.fill("#trail-who", "ada")
    page.fill("#trail-case", "QF-1")
    page.click("#trail-filters button[type=submit]")
    rows = page.locator("#trail tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("任务已转派")
    expect(rows.first).to_contain_text("— → max")
    trail = _download(page, "#trail-csv", tmp_path / "trail.csv")
    found = list(csv.reader(io.StringIO(trail.read_text("utf-8-sig"))))
    assert [row[1:4] for row in found[1:]] == [["ada", "任务已转派", "QF-1"]]  # header + 1

    page.goto("/quality/exports?lang=en")
    page.select_option("#export-process", PROCESS)
    page.click("#export-filters button[type=submit]")
    xes = _download(page, "#download-xes", tmp_path / "events.xes")
    log = pm4py.read_xes(str(xes))
    assert list(log["case:concept:name"]) == [f"{instance} QF-1"] * 2  # scheduled, reassigned
    assert list(log["lifecycle:transition"]) == ["schedule", "reassign"]
    events = _download(page, "#download-csv", tmp_path / "events.csv")
    assert len(list(csv.DictReader(io.StringIO(events.read_text("utf-8"))))) == 2
