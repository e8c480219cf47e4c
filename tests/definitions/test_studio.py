"""The process-owner studio (issue 12): drafts of deployed definitions, round trip, live
validation, review under four eyes (ISO/IEC 17065 §8.3) and deployment of the approved draft —
through the web pages, the real engine and the real `processes/` definitions."""

import io
import re

import pytest

from certflow.db import db
from engine.errors import ForbiddenError
from engine.service import Actor, TaskFilter
from engine.sources import deploy_sources
from handlers.registry import REGISTRY
from tests.studio_support import (
    ACCEPTANCE_DUE,
    CERTIFICATION,
    REVIEW_PARAM,
    draft,
    latest,
    new_draft,
    post_json,
    studio_fixture,  # noqa: F401
    submit_changed_draft,
)
from tests.web_support import Web, text, web_fixture  # noqa: F401


def test_the_studio_lists_processes_and_drafts_with_their_authors(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    page = text(studio.browser("quinn").get("/studio"))
    assert 'data-process="certification"' in page and 'data-process="definition_review"' in page
    assert f'data-draft="{draft_id}"' in page and "olga" in page
    assert "新建草稿" in text(olga.get("/studio"))  # editors get the actions, in Chinese
    assert "New draft" in text(olga.get("/studio?lang=en"))


def test_export_and_import_round_trip_keeps_the_same_hash(studio):
    olga = studio.browser("olga")
    exported = olga.get("/studio/processes/certification/versions/1.bpmn")
    assert exported.status_code == 200
    assert exported.data == CERTIFICATION.encode("utf-8")  # byte for byte as deployed
    response = olga.post(
        "/studio/processes/certification/import",
        {"file": (io.BytesIO(exported.data), "certification.bpmn")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text(response)
    imported = draft(studio, int(response.headers["Location"].rsplit("/", 1)[1]))
    base = latest(studio)
    assert imported.files == base.files and imported.base_sha256 == base.sha256
    with studio.app.app_context():
        result = deploy_sources(
            db.session,
            imported.files,
            registry=REGISTRY,
            actor="olga",
            comment="-",
            now=studio.clock.now(),
        )
        db.session.commit()
    assert result.created == [] and "certification" in result.unchanged
    assert latest(studio).sha256 == base.sha256 and latest(studio).version == 1


def test_live_validation_names_the_element_of_each_problem(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    assert REVIEW_PARAM in CERTIFICATION
    broken = CERTIFICATION.replace(REVIEW_PARAM, "", 1)
    response = post_json(olga, f"/studio/drafts/{draft_id}/validate", {"xml": broken})
    assert response.status_code == 200
    [problem] = response.get_json()["problems"]
    assert problem["element_id"] == "Task_RecordAcceptanceReview"
    assert "man_days" in problem["message"] and problem["file"] == "certification.bpmn"
    fine = ACCEPTANCE_DUE.sub(
        r'\1<spiffworkflow:property name="dueIn" value="P7D" />', CERTIFICATION
    )
    response = post_json(olga, f"/studio/drafts/{draft_id}/validate", {"xml": fine})
    assert response.get_json() == {"problems": []}
    assert draft(studio, draft_id).files["certification.bpmn"] == CERTIFICATION  # not saved
    # A broken draft cannot go to review.
    assert post_json(olga, f"/studio/drafts/{draft_id}/save", {"xml": broken}).status_code == 200
    response = olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "x"})
    assert response.status_code == 422
    assert draft(studio, draft_id).status == "editing"


def test_an_approved_change_is_deployed_with_author_approver_reason_and_hash(studio):
    draft_id = submit_changed_draft(studio, "olga")
    quinn = studio.browser("quinn")
    page = text(quinn.get(f"/studio/drafts/{draft_id}/review"))
    row = re.search(
        r'<tr data-diff-kind="(\w+)" data-element="Task_AcceptanceReview">(.*?)</tr>', page, re.S
    )
    assert row and row.group(1) == "changed" and "dueIn: P5D → P7D" in row.group(2)
    assert page.count("data-diff-kind=") == 1  # nothing else changed
    # The review is a task of the quality manager in the review process.
    assert "评审流程定义变更" in text(quinn.get("/?tab=groups"))
    response = quinn.post(f"/studio/drafts/{draft_id}/decide", {"decision": "approve"})
    assert response.status_code == 303, text(response)
    row = draft(studio, draft_id)
    deployed = latest(studio)
    assert (row.status, row.author, row.reviewer, row.reason) == (
        "approved",
        "olga",
        "quinn",
        "受理评审改为 7 天",
    )
    assert (deployed.version, deployed.sha256) == (
        2,
        row.deployed_sha256,
    ) and row.deployed_version == 2
    with studio.app.app_context():
        assert row.effective_at == studio.clock.now()  # the simulated clock stands still
    assert 'value="P7D"' in deployed.files["certification.bpmn"]
    assert "受理评审改为 7 天" in text(quinn.get(f"/studio/drafts/{draft_id}/review"))
    # New cases start on the new version; the studio tells which versions still run cases.
    with studio.app.app_context():
        assert studio.engine.latest_version("certification").version == 2
        studio.engine.start("certification", actor=Actor("mia", frozenset({"client"})))
    page = text(quinn.get("/studio"))
    running = re.search(
        r'<tr data-process="certification">.*?<td data-running>(.*?)</td>', page, re.S
    )
    assert running and 'data-running-version="2">v2: 1<' in running.group(1)
    assert "v1:" not in running.group(1)


def test_the_author_may_not_approve_their_own_change(studio):
    draft_id = submit_changed_draft(studio, "pat")  # pat holds both roles
    pat = studio.browser("pat")
    response = pat.post(f"/studio/drafts/{draft_id}/decide", {"decision": "approve"})
    assert response.status_code == 403
    # The engine's guard refuses it too, whatever the way in (API, task page).
    with studio.app.app_context():
        [task] = studio.engine.list_tasks(TaskFilter(business_key=f"DRAFT-{draft_id}"))
        with pytest.raises(ForbiddenError, match="four eyes"):
            studio.engine.complete_task(
                task.id, actor=Actor("pat", frozenset({"quality_manager"})), data={"approved": True}
            )
    assert draft(studio, draft_id).status == "in_review"
    assert latest(studio).version == 1


def test_a_returned_change_goes_back_to_the_author_with_comments(studio):
    draft_id = submit_changed_draft(studio, "olga")
    quinn = studio.browser("quinn")
    response = quinn.post(f"/studio/drafts/{draft_id}/decide", {"decision": "reject"})
    assert response.status_code == 422  # the form check: a return needs comments
    assert draft(studio, draft_id).status == "in_review"
    response = quinn.post(
        f"/studio/drafts/{draft_id}/decide", {"decision": "reject", "comments": "请说明依据"}
    )
    assert response.status_code == 303
    row = draft(studio, draft_id)
    assert (row.status, row.review_comments, row.reviewer) == ("rejected", "请说明依据", "quinn")
    assert "请说明依据" in text(studio.browser("olga").get(f"/studio/drafts/{draft_id}"))
    assert latest(studio).version == 1
    # The author edits it again; nobody else may.
    changed = draft(studio, draft_id).files["certification.bpmn"]
    assert (
        post_json(
            studio.browser("olga"), f"/studio/drafts/{draft_id}/save", {"xml": changed}
        ).status_code
        == 200
    )
    assert (
        post_json(
            studio.browser("pat"), f"/studio/drafts/{draft_id}/save", {"xml": changed}
        ).status_code
        == 403
    )


def test_a_draft_whose_base_was_superseded_is_not_deployed(studio):
    first = submit_changed_draft(studio, "olga")
    second = submit_changed_draft(studio, "olga")
    quinn = studio.browser("quinn")
    assert quinn.post(f"/studio/drafts/{first}/decide", {"decision": "approve"}).status_code == 303
    quinn.post(f"/studio/drafts/{second}/decide", {"decision": "approve"})
    assert draft(studio, second).status == "in_review"  # stopped: an incident, nothing deployed
    assert latest(studio).version == 2
