"""The task page: the form rendered from the JSON Schema, submitting (422 with values kept,
success), drafts, comments, uploads, instructions rendered safely, completed tasks."""

import hashlib
import re
from io import BytesIO

from sqlalchemy import select

from certflow.db import db
from domain.attachments import store_attachment
from domain.models import Attachment
from engine.models import EventLog, HumanTask
from tests.web_support import REVIEW_OK, Web, actor, text, web_fixture  # noqa: F401
from webapp.models import AccessLog, TaskComment, TaskDraft

XSS = "<script>alert(1)</script>"


def form_task(web: Web, **data) -> str:
    data.setdefault("customer", "甲公司")
    data.setdefault("case_no", "C-1")
    return web.open_task(web.start("FORM-1", process="web_form_flow", **data))


def field_html(page: str, name: str) -> str:
    """The markup of the field block around the input called `name`."""
    start = page.index(f'name="{name}"')
    block_start = page.rfind('<div class="field', 0, start)
    fieldset_start = page.rfind("<fieldset", 0, start)
    begin = max(block_start, fieldset_start)
    end = page.find("</div>\n", start)
    return page[begin : end if end != -1 else len(page)]


def errors_of(page: str, field_id: str) -> list[str]:
    match = re.search(rf'id="{field_id}-errors" role="alert">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def last_completed_data(web: Web, task_id: str) -> dict:
    with web.app.app_context():
        event = db.session.scalars(
            select(EventLog).where(
                EventLog.task_id == task_id, EventLog.event_type == "task_completed"
            )
        ).one()
        return event.data["data"]


def test_every_field_kind_is_rendered(web):
    task = form_task(web)
    page = text(web.browser("mia").get(f"/tasks/{task}"))
    assert 'enctype="multipart/form-data"' in page and "novalidate" in page
    assert "全部字段 Every field kind" in page and "测试表单 Test form" in page
    assert '<input type="text" id="f-title" name="f/title" value="" maxlength="100" required' in (
        page
    )
    assert "简短 Short" in page  # description as help text
    assert '<textarea id="f-notes" name="f/notes" rows="4" maxlength="1000"' in page
    assert 'inputmode="numeric" id="f-count" name="f/count"' in page
    assert 'inputmode="decimal" id="f-ratio" name="f/ratio"' in page
    assert 'type="checkbox" id="f-agree" name="f/agree" value="1">' in page
    assert 'type="checkbox" id="f-confirmed" name="f/confirmed" value="1" required' in page
    assert page.count('type="radio" name="f/level"') == 3
    assert '<input type="radio" name="f/level" value="2"> 二级 Two' in page
    city = field_html(page, "f/city")
    assert "<select" in city and city.count("<option") == 8  # 7 cities and "choose"
    assert '<input type="date" id="f-visit_on" name="f/visit_on"' in page
    assert '<input type="email" id="f-email" name="f/email"' in page
    assert 'name="f/remark"' in page
    assert '<fieldset class="group" id="f-contact">' in page
    assert 'name="f/contact/name"' in page and 'name="f/contact/phone"' in page
    # Array of objects: a row (minItems 1), its no-JS remove box, the JS template, add button.
    assert 'name="f/sites/0/__row"' in page and 'name="f/sites/0/name"' in page
    assert 'name="f/sites/0/__remove"' in page
    assert 'data-placeholder="__i1__"' in page
    assert "<template data-row-template>" in page and 'name="f/sites/__i1__/name"' in page
    assert "data-add-row" in page
    assert 'name="f/tags/0"' in page  # array of strings: rows of one input
    assert page.count('type="checkbox" name="f/channels"') == 3
    assert '<input type="file" id="f-evidence_file" name="f/evidence_file" accept=' in page
    assert 'name="f/more_files" multiple' in page
    assert "/static/js/app.js" in page
    assert 'value="draft"' in page and 'value="complete"' in page


def test_instructions_are_markdown_with_task_data_and_no_html_injection(web):
    task = form_task(web, customer=XSS, case_no="**bold** [x](javascript:alert(2))")
    page = text(web.browser("mia").get(f"/tasks/{task}"))
    instructions = page.split('<div class="markdown">', 1)[1].split("</div>", 1)[0]
    assert "<h2>Check &lt;script&gt;alert(1)&lt;/script&gt;</h2>" in instructions
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in instructions
    assert "<script>" not in page.split("</head>", 1)[1]
    assert "javascript:" not in instructions.replace("(javascript:alert(2))", "")
    assert 'href="javascript' not in instructions


def test_invalid_submit_is_422_with_values_kept_and_field_errors(web):
    task = form_task(web)
    mia = web.browser("mia")
    response = mia.post(
        f"/tasks/{task}",
        {
            "action": "complete",
            "f/title": "",
            "f/notes": "我的备注 <b>keep</b>",
            "f/count": "abc",
            "f/ratio": "5",
            "f/email": "not-an-email",
            "f/city": "Xiamen",
            "f/level": "2",
            "f/sites/0/__row": "1",
            "f/sites/0/fixed": "1",
            "f/tags/0/__row": "1",
            "f/tags/0": "tag-1",
            "f/channels": "web",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "请更正标出的字段" in page
    # Entered values are shown again.
    assert 'name="f/count" value="abc"' in page
    assert 'name="f/ratio" value="5"' in page
    assert 'name="f/email" value="not-an-email"' in page
    assert "我的备注 &lt;b&gt;keep&lt;/b&gt;</textarea>" in page
    assert '<option value="Xiamen" selected>' in page
    assert '<input type="radio" name="f/level" value="2" checked>' in page
    assert 'name="f/sites/0/fixed" value="1" checked' in page
    assert 'name="f/tags/0" value="tag-1"' in page
    assert 'name="f/channels" value="web" checked' in page
    # Errors next to their fields, in Chinese.
    assert errors_of(page, "f-count") == ["请输入整数。"]
    assert errors_of(page, "f-title") == ["此项为必填项。"]
    assert errors_of(page, "f-confirmed") == ["请确认此项。"]
    assert errors_of(page, "f-ratio") == ["不得大于 1。"]
    assert errors_of(page, "f-sites-0-name") == ["此项为必填项。"]
    assert errors_of(page, "f-evidence_file") == ["此项为必填项。"]
    assert errors_of(page, "f-email")  # jsonschema's format check
    assert web.task(task).state == "open"


def test_engine_validation_errors_are_shown_too(web):
    """No parse error: the engine's FormValidationError gives the field errors."""
    [task] = [web.open_task(web.start("APP-1"))]
    response = web.browser("mia").post(
        f"/tasks/{task}", {"f/accepted": "1", "f/man_days": "0.1", "f/reason": "why"}
    )
    assert response.status_code == 422
    page = text(response)
    assert errors_of(page, "f-man_days") == ["不得小于 0.5。"]
    assert 'name="f/man_days" value="0.1"' in page
    assert ">why</textarea>" in page
    assert web.task(task).state == "open"


def test_valid_submit_completes_the_task_and_the_instance_moves_on(web):
    instance = web.start("APP-1")
    task = web.open_task(instance)
    mia = web.browser("mia")
    response = mia.post(f"/tasks/{task}", {**REVIEW_OK, "next": "/?tab=groups"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?tab=groups"
    inbox = text(mia.get("/?tab=groups"))
    assert "任务已完成：受理评审 Acceptance review" in inbox
    assert web.task(task).state == "completed"
    assert last_completed_data(web, task) == {"accepted": True, "man_days": 2.5}
    with web.app.app_context():
        [following] = db.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance, HumanTask.state == "open")
        ).all()
    assert following.element_id == "Task_SignContract"
    done = text(mia.get(f"/tasks/{task}"))
    assert "已由 mia 于 2026-01-05 09:00 完成" in done
    assert 'value="complete"' not in done
    assert mia.post(f"/tasks/{task}", REVIEW_OK).status_code == 409


def test_english_flash_after_completion(web):
    task = web.open_task(web.start("APP-1"))
    mia = web.browser("mia")
    mia.get("/?lang=en")
    mia.post(f"/tasks/{task}", REVIEW_OK)
    assert "Task completed: 受理评审 Acceptance review" in text(mia.get("/"))


def test_a_task_without_form_is_completed_with_a_button(web):
    task = form_task(web)
    with web.app.app_context():
        web.engine.complete_task(task, actor=actor("mia"), data=_valid(web))
    check = web.open_task(web.task(task).instance_id)
    mia = web.browser("mia")
    page = text(mia.get(f"/tasks/{check}"))
    assert "该任务没有表单" in page and 'value="draft"' not in page
    assert mia.post(f"/tasks/{check}", {"action": "complete"}).status_code == 302
    assert web.task(check).state == "completed"


def _valid(web: Web) -> dict:
    with web.app.app_context():
        attachment = store_attachment(
            db.session,
            web.storage,
            filename="x.txt",
            content_type="text/plain",
            data=b"x",
            kind="other",
            uploaded_by="mia",
            now=web.clock.now(),
        )
        db.session.commit()
        return {
            "title": "T",
            "count": 1,
            "confirmed": True,
            "level": 1,
            "sites": [{"name": "HQ", "fixed": False}],
            "evidence_file": attachment.id,
        }


def test_only_users_who_may_work_on_the_task_get_the_form(web):
    task = web.open_task(web.start("APP-1"))
    quinn = web.browser("quinn")  # sees every task, but lacks the market role
    page = text(quinn.get(f"/tasks/{task}"))
    assert "需要“市场部”角色" in page
    assert 'value="complete"' not in page
    assert quinn.post(f"/tasks/{task}", REVIEW_OK).status_code == 403
    with web.app.app_context():
        logged = db.session.scalars(select(AccessLog).where(AccessLog.event == "denied")).all()
        assert [(r.username, r.status) for r in logged] == [("quinn", 403)]
    assert web.task(task).state == "open"
    web.claim(task, "max")
    page = text(web.browser("mia").get(f"/tasks/{task}"))
    assert "该任务已由 max 认领，只有认领人可以完成" in page


def test_the_engine_decides_and_asks_for_the_role_before_the_claim(web):
    """One rule, the engine's (issue 14): someone without the task's role is refused for the role
    (403, logged) even when another user has claimed the task, on submit and on claim alike."""
    task = web.open_task(web.start("APP-1"))
    web.claim(task, "max")
    quinn = web.browser("quinn")  # sees every task, lacks the market role
    assert quinn.post(f"/tasks/{task}", REVIEW_OK).status_code == 403
    assert quinn.post(f"/tasks/{task}/claim").status_code == 403
    with web.app.app_context():
        logged = db.session.scalars(select(AccessLog).where(AccessLog.event == "denied")).all()
        assert [(r.username, r.status) for r in logged] == [("quinn", 403), ("quinn", 403)]
    assert web.task(task).assignee == "max" and web.task(task).state == "open"
    # The claimant's rivals who hold the role learn who claimed it: 409 with the name.
    response = web.browser("mia").post(f"/tasks/{task}", REVIEW_OK)
    assert response.status_code == 409
    assert "该任务已由 max 认领" in text(response)


def test_a_refused_submission_keeps_no_upload(web):
    """Files are stored before the engine decides; when it refuses the user, they are taken back
    (kept only when the form needs correcting)."""
    task = form_task(web)
    quinn = web.browser("quinn")
    response = quinn.post(
        f"/tasks/{task}",
        {"f/title": "T", "f/evidence_file": (BytesIO(b"quinn's"), "q.txt", "text/plain")},
    )
    assert response.status_code == 403
    response = quinn.post(  # an input that does not parse: the page's own rule refuses
        f"/tasks/{task}",
        {"f/count": "abc", "f/evidence_file": (BytesIO(b"quinn's 2"), "q.txt", "text/plain")},
    )
    assert response.status_code == 403
    mia = web.browser("mia")
    response = mia.post(
        f"/tasks/{task}",
        {"f/title": "T", "f/evidence_file": (BytesIO(b"mia's"), "m.txt", "text/plain")},
    )
    assert response.status_code == 422  # the form is incomplete: mia's file is kept
    with web.app.app_context():
        uploads = db.session.scalars(select(Attachment.uploaded_by)).all()
    assert uploads == ["mia"]


# -- drafts ---------------------------------------------------------------------------------------
def test_draft_is_saved_per_user_and_filled_in_next_time(web):
    task = form_task(web)
    mia = web.browser("mia")
    response = mia.post(
        f"/tasks/{task}",
        {
            "action": "draft",
            "f/title": "半成品",
            "f/count": "12x",
            "f/sites/0/__row": "1",
            "f/sites/0/name": "总部",
            "f/level": "3",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tasks/{task}"
    page = text(mia.get(f"/tasks/{task}"))
    assert "草稿已保存" in page and "已填入您于" in page
    assert 'name="f/title" value="半成品"' in page
    assert 'name="f/count" value="12x"' in page  # even what did not parse
    assert 'name="f/sites/0/name" value="总部"' in page
    assert '<input type="radio" name="f/level" value="3" checked>' in page
    assert web.task(task).state == "open"
    other = text(web.browser("max").get(f"/tasks/{task}"))
    assert 'name="f/title" value=""' in other  # drafts are personal
    # Completing the task removes the drafts.
    data = _valid(web)
    response = mia.post(
        f"/tasks/{task}",
        {
            "f/title": "T",
            "f/count": "1",
            "f/confirmed": "1",
            "f/level": "1",
            "f/sites/0/__row": "1",
            "f/sites/0/name": "HQ",
            "f/evidence_file/__keep": str(data["evidence_file"]),
        },
    )
    assert response.status_code == 302, text(response)
    with web.app.app_context():
        assert db.session.scalars(select(TaskDraft)).all() == []


# -- comments -------------------------------------------------------------------------------------
def test_comments(web):
    task = web.open_task(web.start("APP-1"))
    mia = web.browser("mia")
    response = mia.post(f"/tasks/{task}/comments", {"body": f"请补充材料 {XSS}"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tasks/{task}#comments")
    page = text(web.browser("max").get(f"/tasks/{task}"))
    assert "请补充材料 &lt;script&gt;" in page and XSS not in page
    assert "<strong>mia</strong>" in page
    assert "评论已添加" not in page  # the flash went to mia
    empty = mia.post(f"/tasks/{task}/comments", {"body": "   "})
    assert "评论内容为空" in text(mia.get(empty.headers["Location"]))
    too_long = mia.post(f"/tasks/{task}/comments", {"body": "x" * 4001})
    assert "评论过长" in text(mia.get(too_long.headers["Location"]))
    with web.app.app_context():
        [comment] = db.session.scalars(select(TaskComment)).all()
        assert (comment.author, comment.task_id) == ("mia", task)


# -- uploads --------------------------------------------------------------------------------------
def test_files_are_stored_under_instance_uploads_and_their_ids_go_into_the_data(web):
    task = form_task(web)
    mia = web.browser("mia")
    evidence = b"evidence bytes"
    response = mia.post(
        f"/tasks/{task}",
        {
            "f/title": "With files",
            "f/count": "2",
            "f/confirmed": "1",
            "f/level": "1",
            "f/sites/0/__row": "1",
            "f/sites/0/name": "HQ",
            "f/evidence_file": (BytesIO(evidence), "证据.txt", "text/plain"),
            "f/more_files": [
                (BytesIO(b"%PDF-1.4 one"), "one.pdf", "application/pdf"),
                (BytesIO(b"\x89PNG two"), "two.png", "image/png"),
            ],
        },
    )
    assert response.status_code == 302, text(response)
    data = last_completed_data(web, task)
    with web.app.app_context():
        files = {a.id: a for a in db.session.scalars(select(Attachment))}
    assert set(files) == {data["evidence_file"], *data["more_files"]}
    stored = files[data["evidence_file"]]
    assert (stored.filename, stored.uploaded_by, stored.kind) == ("证据.txt", "mia", "evidence")
    digest = hashlib.sha256(evidence).hexdigest()
    path = web.storage / digest[:2] / digest
    assert path.read_bytes() == evidence
    assert str(path).startswith(web.app.instance_path)
    # The next task of the case lists the files, and they can be downloaded.
    check = web.open_task(web.task(task).instance_id)
    page = text(mia.get(f"/tasks/{check}"))
    for attachment in files.values():
        assert f'href="/files/{attachment.id}"' in page
    download = mia.get(f"/files/{stored.id}")
    assert download.status_code == 200
    assert download.data == evidence
    assert "attachment" in download.headers["Content-Disposition"]


def test_rejected_uploads_and_other_errors_keep_the_entered_values_and_files(web):
    task = form_task(web)
    mia = web.browser("mia")
    response = mia.post(
        f"/tasks/{task}",
        {
            "f/title": "Keep me",
            "f/evidence_file": (BytesIO(b"ok"), "ok.txt", "text/plain"),
            "f/more_files": [(BytesIO(b"MZ"), "tool.exe", "application/x-msdownload")],
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert 'name="f/title" value="Keep me"' in page
    assert "tool.exe：不支持该文件类型" in page
    # The accepted upload is kept: a ticked box with its name and download link.
    with web.app.app_context():
        [kept] = db.session.scalars(select(Attachment)).all()
    assert f'name="f/evidence_file/__keep" value="{kept.id}" checked' in page
    assert f'<a href="/files/{kept.id}">ok.txt</a>' in page
    # Sending the form again with the kept file completes the task.
    response = mia.post(
        f"/tasks/{task}",
        {
            "f/title": "Keep me",
            "f/count": "1",
            "f/confirmed": "1",
            "f/level": "1",
            "f/sites/0/__row": "1",
            "f/sites/0/name": "HQ",
            "f/evidence_file/__keep": str(kept.id),
        },
    )
    assert response.status_code == 302
    assert last_completed_data(web, task)["evidence_file"] == kept.id


def test_files_of_another_organisation_cannot_be_slipped_into_a_form(web):
    task = web.to_contract(web.start("APP-A", org="A"))
    with web.app.app_context():
        foreign = store_attachment(
            db.session,
            web.storage,
            filename="b.txt",
            content_type="text/plain",
            data=b"secret of B",
            kind="other",
            uploaded_by="cora",
            now=web.clock.now(),
            organisation_id=web.organisations["B"],
        )
        db.session.commit()
        foreign_id = foreign.id
    form = form_task(web)
    # carl (organisation A) may not use it, nor mia (no part in B's case); quinn sees every case.
    assert web.browser("carl").get(f"/files/{foreign_id}").status_code == 404
    assert web.browser("mia").get(f"/files/{foreign_id}").status_code == 404
    assert web.browser("quinn").get(f"/files/{foreign_id}").status_code == 200
    response = web.browser("mia").post(
        f"/tasks/{form}", {"f/title": "x", "f/evidence_file/__keep": "999999"}
    )
    assert response.status_code == 422
    assert "该文件不可用" in text(response)
    assert task  # the client task exists (visible to carl)
