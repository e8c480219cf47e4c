"""Issue 15's table of every rule (docs/rules-coverage.md) and issue 13's rules catalogue
(processes/rules_catalogue.yaml, the Chinese text of every rule): both generated
(`certflow rules coverage`, `certflow rules catalogue`) and kept up to date by these tests."""

from click.testing import CliRunner

from cli.rules import rules_group
from domain.rule_catalogue import (
    RULES_FILE,
    Rule,
    build_rules,
    dump_rules,
    load_rules,
    summary_zh,
)
from domain.rules_coverage_doc import DOCUMENT, coverage_document, render_coverage
from domain.traceability_view import build_view
from tests.definitions.test_traceability import CATALOGUE, catalogue_ids

RULES_ZH = CATALOGUE.parent / "certification-rules.zh.txt"


def spec_rules():
    return build_rules(CATALOGUE.read_text(encoding="utf-8"), RULES_ZH.read_text(encoding="utf-8"))


def test_the_committed_rules_catalogue_is_the_spec_extract():
    assert RULES_FILE.read_text(encoding="utf-8") == dump_rules(spec_rules()), (
        "processes/rules_catalogue.yaml is out of date: run `certflow rules catalogue`"
    )
    assert [rule.id for rule in load_rules()] == catalogue_ids()


def test_every_rule_has_the_chinese_text_of_its_clause_and_no_more():
    rules = {rule.id: rule for rule in spec_rules()}
    assert all(rule.text_zh for rule in rules.values())
    assert rules["R-3"].text_zh.startswith("3 认证依据\n《GB/T 27922")
    # Items of one clause: R-6.2.2a is acceptance, R-6.2.2b refusal.
    assert "签订具有法律效力的书面认证合同" in rules["R-6.2.2a"].text_zh
    assert "不受理" not in rules["R-6.2.2a"].text_zh
    assert "待具备条件具备时再评审" in rules["R-6.2.2b"].text_zh
    assert "书面认证合同" not in rules["R-6.2.2b"].text_zh
    # A clause with rules of its own below it stops where they start (8.5 before 8.5.1) ...
    assert "首次会议" in rules["R-8.5"].text_zh and "16)" not in rules["R-8.5"].text_zh
    # ... one without keeps its sub-clauses (8.7.1 to 8.7.3, 8.5.7.1, 8.5.7.2).
    assert "8.7.3 验证纠正和纠正措施的有效性" in rules["R-8.7"].text_zh
    assert "8.5.7.2 客户应有机会提出问题" in rules["R-8.5.7"].text_zh
    # A figure that starts a wrapped line ("15个月") is text, not a clause 15.
    assert "15个月。" in rules["R-8.10.1"].text_zh
    assert rules["R-8.10.2"].text_zh.startswith("8.10.2 监督审查至少包括以下内容")
    assert (
        rules["R-14"].text_zh
        == "14 公告\n对获得认证、暂停、恢复、撤销的组织，在首认检测认证/CTC认证网站上公布。"
    )


def test_the_chinese_summary_is_the_clause_title_or_its_first_sentence():
    rules = {rule.id: rule for rule in load_rules()}
    assert summary_zh(rules["R-8.10.3"]) == "监督审查结论"
    assert summary_zh(rules["R-6.2.2b"]) == "首认检测认证/CTC-不受理认证申请"
    assert summary_zh(rules["R-7.2.4"]) == "审查组所需的知识和技能可以通过技术专家补充"


def test_the_committed_rules_coverage_table_is_up_to_date():
    assert DOCUMENT.read_text(encoding="utf-8") == coverage_document(), (
        "docs/rules-coverage.md is out of date: run `certflow rules coverage`"
    )


def test_the_coverage_table_lists_every_rule_with_its_status():
    document = coverage_document()
    for rid in catalogue_ids():
        assert f"\n| {rid} | " in document
        assert f"\n### {rid}\n" in document
    assert "Rules in the catalogue: 52" in document


def test_the_command_writes_the_table(tmp_path, monkeypatch):
    target = tmp_path / "rules-coverage.md"
    monkeypatch.setattr("cli.rules.DOCUMENT", target)
    result = CliRunner().invoke(rules_group, ["coverage"])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == coverage_document()


def test_a_rule_marked_partial_in_the_traceability_data_says_what_is_missing():
    rules = [Rule("R-8.7", "8.7", None, "8.7 不符合"), Rule("R-14", "14", None, "14 公告")]
    data = {
        "requirements": {
            "R-8.7": {
                "summary": "nonconformities",
                "code": ["domain/nonconformity.py"],
                "tests": ["tests/x.py::test_nc"],
                "partial": "the overdue escalation does not yet act",
            },
            "R-14": {"summary": "publication", "code": ["domain/x.py"], "tests": ["t"]},
        }
    }
    document = render_coverage(build_view(rules, data, []))
    assert (
        "| R-8.7 | nonconformities | partly built: the overdue escalation does not yet act |"
        in (document)
    )
    assert "| R-14 | publication | built and tested (no diagram element) |" in document
    bare = render_coverage(build_view(rules, {"requirements": {}}, []))
    assert (
        "| R-14 |  | NOT built: no diagram element, no handler, guard, validator or code, " in bare
    )
