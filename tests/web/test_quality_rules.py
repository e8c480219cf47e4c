"""Issue 13 ("Rules traceability, visible"): the quality manager's rules catalogue on the
deployed processes — every rule with its Chinese text and a summary in the page's language,
what implements it, coverage and flags — and a deployed diagram with each step's rules as
overlays and a chosen rule's steps highlighted; in Chinese and in English."""

import json
import re

import pytest
import yaml
from flask import g

from certflow.accounts import create_user
from certflow.db import db
from tests.certification_case import deploy_everything
from tests.conftest import START_TIME
from tests.web_support import Browser, text
from webapp.quality.rules import TRACEABILITY


@pytest.fixture
def quinn(engine, app) -> Browser:
    deploy_everything(engine)
    create_user(
        db.session,
        "qm",
        password="pw",
        roles={"quality_manager"},
        display_name="QM",
        now=START_TIME,
    )
    db.session.commit()
    g.pop("_login_user", None)  # the engine fixtures' app context is reused by the client
    g.pop("csrf_token", None)
    browser = Browser(app)
    assert browser.login("qm", "pw").status_code == 302
    return browser


def page_of(browser: Browser, url: str) -> str:
    """The page's HTML; Flask-Babel caches the request's language on `g`, which the engine
    fixtures' app context keeps between requests."""
    g.pop("_flask_babel", None)
    return text(browser.get(url))


def attribute(html: str, name: str):
    value = re.search(rf"{name}='([^']*)'", html).group(1)
    return json.loads(value.replace("&#34;", '"').replace("&quot;", '"'))


def test_the_catalogue_shows_every_rule_with_its_text_and_what_implements_it(quinn):
    page = page_of(quinn, "/quality/rules")
    assert page.count('data-rule="R-') == 52
    # The rule as the rules number it, its Chinese text, its Chinese summary (the clause title).
    assert "规则第8.10.3条" in page and "规则第6.2.2条（b）" in page
    assert "监督审查结论" in page and "整改后不能满足最低级别要求时撤销认证" in page
    assert 'data-figure="rules">52<' in page
    # Linked to every deployed diagram with steps of the rule, the rule chosen there.
    assert "/quality/rules/diagram/certification?rule=R-6.2.2a" in page
    assert "/quality/rules/diagram/surveillance?rule=R-8.10.1" in page
    assert "受理评审" in page  # a step's name
    # No raw value: no operator, test or file name.
    assert "application.record_review" not in page and "tests/" not in page
    assert ".bpmn" not in page


def test_the_catalogue_in_english(quinn):
    page = page_of(quinn, "/quality/rules?lang=en")
    assert "Rule 8.10.3" in page and "Rule 6.2.2 (b)" in page
    assert "accepted → legally binding contract with both signatures and dates" in page
    assert "整改后不能满足最低级别要求时撤销认证" in page  # the rule's own text stays Chinese
    assert "Acceptance review" in page  # the step's name in English


def test_the_deployed_diagram_shows_each_steps_rules_and_highlights_the_chosen_one(quinn):
    page = page_of(quinn, "/quality/rules/diagram/certification?rule=R-6.2.2a")
    labels = attribute(page, "data-labels")
    assert "规则第6.2.2条（a）" in labels["Task_SignContract"]
    highlight = attribute(page, "data-highlight")
    assert {"Gateway_Accepted", "Task_SignContract", "Task_RecordContract"} <= set(highlight)
    assert "Task_NotifyNotAccepted" not in highlight  # R-6.2.2b's step
    assert 'data-chosen-rule="R-6.2.2a"' in page
    # Across diagrams: the rule's other deployed diagrams, the rule chosen there too.
    surveillance = page_of(quinn, "/quality/rules/diagram/surveillance?rule=R-8.10.1")
    assert re.search(
        r'href="/quality/rules/diagram/surveillance_audit\?rule=R-8.10.1"', surveillance
    )
    assert 'data-other-diagram="surveillance"' not in surveillance
    english = page_of(quinn, "/quality/rules/diagram/certification?rule=R-6.2.2a&lang=en")
    assert "Rule 6.2.2 (a)" in attribute(english, "data-labels")["Task_SignContract"]
    source = quinn.get("/quality/rules/diagram/certification/source.bpmn")
    assert source.status_code == 200 and b'id="Task_SignContract"' in source.data


def test_an_unknown_process_is_404_and_an_unknown_rule_highlights_nothing(quinn):
    assert quinn.get("/quality/rules/diagram/no_such_process").status_code == 404
    assert quinn.get("/quality/rules/diagram/no_such_process/source.bpmn").status_code == 404
    page = page_of(quinn, "/quality/rules/diagram/certification?rule=R-99.1")
    assert attribute(page, "data-highlight") == []
    assert "data-chosen-rule" not in page


def test_the_gaps_are_shown_with_where_they_are(quinn, tmp_path, monkeypatch):
    data = yaml.safe_load(TRACEABILITY.read_text(encoding="utf-8"))
    entries = data["requirements"]
    entries["R-6.2.1"]["elements"] = ["certification.bpmn#Task_NoSuchStep"]
    entries["R-99"] = {"summary": "not a rule", "tests": []}
    changed = tmp_path / "traceability.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr("webapp.quality.rules.TRACEABILITY", changed)
    page = page_of(quinn, "/quality/rules")
    assert "data-no-flags" not in page
    missing = re.search(
        r'data-flag="missing_element" data-flag-rule="R-6.2.1">(.*?)</li>', page, re.S
    )
    assert "已部署的流程图中不存在" in missing.group(1)
    assert "流程图“认证流程”" in missing.group(1) and "Task_NoSuchStep" not in page
    unknown = re.search(r'data-flag="unknown_rule" data-flag-rule="R-99">(.*?)</li>', page, re.S)
    assert "规则第99条" in unknown.group(1)
    english = page_of(quinn, "/quality/rules?lang=en")
    assert "the diagram “Initial certification”" in english
