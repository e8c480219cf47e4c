"""Issue 10, "Forms that respect people": a new task starts empty except for what its form
declares, the red `*` marks only what must be filled in, a refused form keeps exactly the rows
sent, and lists in descriptions and instructions are shown as lists."""

import re

from tests.web_support import Web, text, web_fixture  # noqa: F401
from webapp.instructions import render_instructions


def form_task(web: Web, **data) -> str:
    data.setdefault("customer", "甲公司")
    data.setdefault("case_no", "C-1")
    return web.open_task(web.start("FORM-1", process="web_form_flow", **data))


def test_task_data_of_the_same_name_is_not_filled_into_a_new_task(web):
    # What an earlier round left in the task data (same variable names as the form's fields)
    # must not appear in the form of the next task.
    task = form_task(web, title="上一轮 last round", count=7, agree=True, tags=["old"])
    page = text(web.browser("mia").get(f"/tasks/{task}"))
    assert 'name="f/title" value=""' in page
    assert 'name="f/count" value=""' in page
    assert 'id="f-agree" name="f/agree" value="1">' in page  # not ticked
    assert "上一轮" not in page.split('class="task-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="f/tags/0" value="old"' not in page


def test_after_a_422_no_extra_empty_row_appears(web):
    task = form_task(web)
    response = web.browser("mia").post(
        f"/tasks/{task}",
        {
            "action": "complete",
            "f/title": "",
            "f/sites/0/__row": "1",
            "f/sites/0/name": "总部",
            "f/tags/0/__row": "1",
            "f/tags/0": "tag-1",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert 'name="f/sites/0/__row"' in page and 'name="f/sites/1/__row"' not in page
    assert 'name="f/tags/0/__row"' in page and 'name="f/tags/1/__row"' not in page


def test_the_red_star_is_only_on_fields_that_must_be_filled_in(web):
    task = form_task(web)
    page = text(web.browser("mia").get(f"/tasks/{task}"))

    def starred(label: str) -> bool:
        match = re.search(re.escape(label) + r'(<span class="req"[^>]*>\*</span>)?', page)
        assert match, label
        return match.group(1) is not None

    assert starred("标题 Title")  # required string
    assert starred("场所 Sites")  # required array with minItems 1
    assert starred("姓名 Name")  # required inside an optional object
    assert not starred("备注 Notes")  # not required
    assert not starred("说明 Remark")  # nullable
    assert not starred("标签 Tags")  # optional array


def test_a_numbered_list_in_an_instruction_is_a_list():
    # The acceptance review's five points were one line (issue 10).
    from pathlib import Path

    bpmn = (Path(__file__).parents[2] / "processes" / "certification.bpmn").read_text()
    start = bpmn.index("## 受理评审")
    end = bpmn.index("</spiffworkflow:instructionsForEndUser>", start)
    html = str(render_instructions(bpmn[start:end], {}))
    lists = re.findall(r"<ol>(.*?)</ol>", html, re.S)
    assert [item.count("<li>") for item in lists] == [5]  # Chinese source; English in the catalogue


def test_every_instruction_writes_its_numbered_points_one_per_line():
    # "1. …；2. …" on one line renders as a single paragraph: each point needs its own line.
    from pathlib import Path

    inline = re.compile(r"(?m)^\s*1[.)] .*[;；,，] ?2[.)] ")
    for bpmn in sorted((Path(__file__).parents[2] / "processes").glob("*.bpmn")):
        for block in re.findall(
            r"<spiffworkflow:instructionsForEndUser>(.*?)</spiffworkflow:instructionsForEndUser>",
            bpmn.read_text(),
            re.S,
        ):
            assert not inline.search(block), (bpmn.name, block[:80])


def test_a_description_renders_as_markdown():
    from webapp.instructions import render_markdown

    html = str(render_markdown("要点 Points:\n\n1. 甲 a\n2. 乙 b\n\n<script>x</script>"))
    assert "<ol>" in html and html.count("<li>") == 2
    assert "<script>" not in html
