"""Translations, China time, and the instructions renderer (no database)."""

import os
import shutil
from datetime import UTC, date, datetime

from babel.messages.pofile import read_po
from flask import Flask
from jsonschema import FormatChecker

from engine.forms import FieldError, field_errors
from webapp import catalogs, form_errors, i18n
from webapp.instructions import render_instructions


def test_every_message_has_a_chinese_translation():
    with (catalogs.TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    extracted = {
        (m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalogs.extract_messages() if m.id
    }
    missing = sorted(extracted - translated)
    assert missing == [], f"run `make translations` and translate: {missing}"


def test_catalogs_are_compiled_when_missing_or_stale(tmp_path):
    shutil.copytree(catalogs.TRANSLATIONS, tmp_path / "t", ignore=shutil.ignore_patterns("*.mo"))
    written = catalogs.compile_catalogs(tmp_path / "t")
    assert sorted(p.parent.parent.name for p in written) == ["en", "zh_CN"]
    assert catalogs.compile_catalogs(tmp_path / "t") == []  # up to date
    po = tmp_path / "t" / "en" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert catalogs.compile_catalogs(tmp_path / "t") == [mo]
    assert oct(mo.stat().st_mode & 0o777) == "0o644"


def test_china_time():
    value = datetime(2026, 1, 5, 16, 30, tzinfo=UTC)
    assert i18n.localtime(value) == "2026-01-06 00:30"
    assert i18n.localdate(value) == "2026-01-06"
    assert i18n.localdate(date(2026, 1, 5)) == "2026-01-05"
    assert i18n.localtime(None) == ""
    assert i18n.china_day_start(date(2026, 1, 6)) == datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
    assert i18n.china_day_end(value) == datetime(2026, 1, 6, 16, 0, tzinfo=UTC)
    assert i18n.china_day_end(value, days=6) == datetime(2026, 1, 12, 16, 0, tzinfo=UTC)


def test_safe_next():
    assert i18n.safe_next("/tasks/x?next=/", "/") == "/tasks/x?next=/"
    for bad in ("https://evil", "//evil", "/\\evil", "evil", "", None, "/a\nb"):
        assert i18n.safe_next(bad, "/home") == "/home"


def test_validation_messages_are_translated():
    """Keyed by the failed rule (jsonschema's validator and validator_value), not by its text."""
    app = Flask(__name__)
    i18n.babel.init_app(app, locale_selector=lambda: "zh_CN")
    schema = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "man_days": {"type": "number", "minimum": 0.5},
            "visit_on": {"type": "string", "format": "date"},
            "confirmed": {"const": True},
            "uscc": {"type": "string", "format": "uscc"},
        },
    }
    checker = FormatChecker()

    @checker.checks("uscc", raises=ValueError)
    def _uscc(value):
        raise ValueError("第 3 位校验码错误")

    data = {"man_days": 0.1, "visit_on": "x", "confirmed": False, "uscc": "91"}
    with app.test_request_context("/"):
        assert form_errors.worded(field_errors(schema, data, checker)) == {
            "title": ["此项为必填项。"],
            "man_days": ["不得小于 0.5。"],
            "visit_on": ["请输入日期（YYYY-MM-DD）。"],
            "confirmed": ["请确认此项。"],
            "uscc": ["第 3 位校验码错误"],  # the checker's reason, kept as is
        }
        assert form_errors.worded(field_errors(schema, {"title": ""}, checker)) == {
            "title": ["内容过短或条目过少。"]
        }
        assert form_errors.parser_errors({"n": ["Enter a number."]}) == {"n": ["请输入数字。"]}
        # The engine's answer: fields the schema explains are worded by their rule, the others
        # (a domain validator's finding) kept as written.
        assert form_errors.worded(
            {
                "man_days": [
                    FieldError("man_days", "0.1 is less than the minimum of 0.5", "minimum", 0.5)
                ],
                "kind": [FieldError("kind", "R-9.3: no")],
            }
        ) == {"man_days": ["不得小于 0.5。"], "kind": ["R-9.3: no"]}


def test_instructions_fill_placeholders_escape_html_and_stay_sandboxed():
    html = render_instructions(
        "# {{ name }}\n\n* {{ items | join(', ') }}\n\n<i>raw</i> {{ name.__class__ }}",
        {"name": "<img src=x onerror=alert(1)>", "items": ["a", "<b>"]},
    )
    assert html.startswith("<h1>&lt;img src=x onerror=alert(1)&gt;</h1>")
    assert "<li>a, &lt;b&gt;</li>" in html
    assert "&lt;i&gt;raw&lt;/i&gt;" in html
    assert "class" not in html  # the sandbox refuses dunder attributes
    assert "<img" not in html and "<i>" not in html
    broken = render_instructions("Hello {{ name ", {"name": "x"})
    assert broken == "<p>Hello {{ name</p>\n"  # a template error shows the text
    assert render_instructions("", {}) == ""
    assert render_instructions(None, {}) == ""
    link = render_instructions("[x](javascript:alert(1)) [y](https://example.cn)", {})
    assert 'href="javascript' not in link and 'href="https://example.cn"' in link


def test_instructions_show_a_value_the_task_lacks_as_nothing_not_as_the_template():
    # The client's first NC answer: no verification yet (found by the full-certification walk).
    html = render_instructions(
        "请在 {{ nc.deadline }} 前提交。退回的不符合：{{ nc_verification.rejected }}",
        {"nc": {"deadline": "2027-01-30"}},
    )
    assert html == "<p>请在 2027-01-30 前提交。退回的不符合：</p>\n"


def test_instructions_show_a_list_as_its_items_and_null_as_nothing():
    # The client's second NC answer showed "['NC-1']" (found by the full-certification walk).
    html = render_instructions(
        "退回：{{ rejected }}；备注：{{ note }}", {"rejected": ["NC-1", "NC-2"], "note": None}
    )
    assert html == "<p>退回：NC-1, NC-2；备注：</p>\n"
