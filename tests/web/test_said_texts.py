"""Reasons worded in both languages (domain.said) are shown in the page's language only (issue
10): in task instructions ("上次委派被拒绝") and as the reason of a disabled auditor option."""

import re

from certflow.db import db
from domain.said import said
from tests.conftest import START_TIME
from tests.factories import make_auditor
from webapp.form_options import UNAVAILABLE, with_options
from webapp.instructions import render_instructions

REASON = said("R-7.2.2", "张三没有服务认证审查员注册资格", "张三 has no auditor registration")
INSTRUCTIONS = "{% for reason in refusals %}- {{ reason }}\n{% endfor %}"


def test_instructions_print_a_reason_in_the_page_language(app):
    with app.test_request_context("/tasks/1"):
        chinese = str(render_instructions(INSTRUCTIONS, {"refusals": [REASON]}))
    with app.test_request_context("/tasks/1?lang=en"):
        english = str(render_instructions(INSTRUCTIONS, {"refusals": [REASON]}))
    assert "规则第7.2.2条：张三没有服务认证审查员注册资格" in chinese and "Rule" not in chinese
    assert "Rule 7.2.2: 张三 has no auditor registration" in english
    assert "没有" not in english and "zh_CN" not in english + chinese


def test_a_refused_auditor_option_gives_its_reason_in_the_page_language(app):
    schema = {
        "type": "object",
        "properties": {"auditor_id": {"type": "integer", "x-options": {"source": "auditors"}}},
    }
    with app.app_context():
        auditor_id = make_auditor(db.session, START_TIME, name="钱无证", registration=None).id
        db.session.commit()
    shown = {}
    for lang in ("zh_CN", "en"):
        with app.test_request_context(f"/tasks/1?lang={lang}"):
            expanded = with_options(schema, {})
            [refused] = expanded["properties"]["auditor_id"][UNAVAILABLE]
            assert refused["const"] == auditor_id
            shown[lang] = refused["reason"]
    assert shown["zh_CN"] == "规则第7.2.2条：钱无证没有服务认证审查员注册资格"
    assert shown["en"] == "Rule 7.2.2: 钱无证 has no service-certification auditor registration"
    assert not re.search(r"#\s*\d", shown["zh_CN"] + shown["en"])
