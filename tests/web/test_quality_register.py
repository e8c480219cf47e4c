"""The definitions register of the quality workspace (issue 13; ISO/IEC 17065 8.3): every
version of every process with hash, author, approver, reason, deployed and effective times and
its cases; a version's files downloaded as deployed; two versions compared element by element;
the studio's review decisions in the audit trail. Real processes, real studio review."""

import csv
import io
import re
import zipfile

from tests.paths import PROCESSES
from tests.studio_support import studio_fixture, submit_changed_draft  # noqa: F401
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401


def _row(page: str, process_id: str, version: int) -> str:
    section = re.search(
        rf'<section class="card" data-process="{process_id}".*?</section>', page, re.S
    )
    assert section, process_id
    row = re.search(rf'<tr data-version="{version}">(.*?)</tr>', section.group(0), re.S)
    assert row, version
    return row.group(1)


def _approve_a_change(studio: Web) -> tuple[int, int]:
    """olga's first draft is returned by quinn, her second approved: version 2 in force."""
    quinn = studio.browser("quinn")
    returned = submit_changed_draft(studio, "olga")
    response = quinn.post(
        f"/studio/drafts/{returned}/decide", {"decision": "reject", "comments": "请说明依据"}
    )
    assert response.status_code == 303
    approved = submit_changed_draft(studio, "olga")
    assert (
        quinn.post(f"/studio/drafts/{approved}/decide", {"decision": "approve"}).status_code == 303
    )
    with studio.app.app_context():
        studio.engine.start("certification", actor=actor("carl"))
    return returned, approved


def test_the_register_shows_author_approver_reason_and_cases_of_each_version(studio):
    _approve_a_change(studio)
    quinn = studio.browser("quinn")
    page = text(quinn.get("/quality/definitions?lang=en"))
    newest, first = _row(page, "certification", 2), _row(page, "certification", 1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", newest, re.S)
    assert cells[2:5] == ["olga", "quinn", "受理评审改为 7 天"]
    assert "<td data-running>1</td>" in newest and "<td data-finished>0</td>" in newest
    assert "Deployed by the operator (no studio review)" in first
    assert "<td>setup</td>" in first and "<td>rules</td>" in first  # deployer and comment
    assert "<td data-running>0</td>" in first
    assert "流程定义登记册" in text(studio.browser("quinn").get("/quality/definitions"))


def test_two_versions_are_compared_element_by_element(studio):
    _approve_a_change(studio)
    quinn = studio.browser("quinn")
    page = text(quinn.get("/quality/definitions/certification/compare?a=1&b=2&lang=en"))
    assert page.count("data-diff-kind=") == 1
    row = re.search(
        r'<tr data-diff-kind="changed" data-element="Task_AcceptanceReview">(.*?)</tr>', page, re.S
    )
    assert row and "dueIn: P5D → P7D" in row.group(1)
    assert "User task" in row.group(1) and "userTask" not in row.group(1)  # the type in words
    chinese = text(quinn.get("/quality/definitions/certification/compare?a=1&b=2&lang=zh_CN"))
    assert "人工任务" in chinese
    same = text(quinn.get("/quality/definitions/certification/compare?a=2&b=2"))
    assert "data-diff-empty" in same and "data-diff-kind=" not in same
    assert quinn.get("/quality/definitions/certification/compare?a=9&b=2").status_code == 422
    assert quinn.get("/quality/definitions/nothing/compare").status_code == 404


def test_a_version_downloads_with_every_file_as_deployed(studio):
    quinn = studio.browser("quinn")
    response = quinn.get("/quality/definitions/certification/versions/1.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert "certification.bpmn" in names and "star_level.dmn" in names
    assert any(name.startswith("forms/") for name in names)
    assert archive.read("certification.bpmn") == (PROCESSES / "certification.bpmn").read_bytes()
    assert quinn.get("/quality/definitions/certification/versions/9.zip").status_code == 404


def test_review_decisions_are_in_the_audit_trail(studio):
    returned, approved = _approve_a_change(studio)
    response = studio.browser("quinn").get("/quality/trail.csv?who=quinn&lang=en")
    found = list(csv.DictReader(io.StringIO(text(response).lstrip("\ufeff"))))
    assert [(r["Operation"], r["Case"]) for r in found] == [
        ("Definition deployed", "certification v2"),  # the approval deploys the version
        ("Definition change approved", f"DRAFT-{approved}"),
        ("Definition change returned", f"DRAFT-{returned}"),
    ]
    assert found[0]["Details"].endswith("受理评审改为 7 天 (author olga, approved by quinn)")
    assert found[2]["Details"] == "请说明依据"  # what the author was told
