"""Texts of the process definitions for people, one language at a time (issue 10, "Labels
everywhere"): Chinese source in the BPMN and forms, English in processes.po, no developer words;
the split tool; `certflow validate`'s report of missing translations; deploy and display."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from certflow.process_texts import (
    CATALOGUE,
    file_texts,
    load_catalogue,
    read_catalogue,
    save_catalogue,
    text_files,
    untranslated,
)

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
TOOL = ROOT / "tools" / "split_bilingual_texts.py"
sys.path.insert(0, str(TOOL.parent))
from split_bilingual_texts import split_block, split_description, split_name  # noqa: E402

TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
LABEL_FILTER = re.compile(r"\|\s*label\(\s*(\"[a-z_]+\"|'[a-z_]+')\s*\)")
STRING_LITERAL = re.compile(r"\"([^\"]*)\"|'([^']*)'")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
ENGLISH_WORD = re.compile(r"\b(?=[A-Za-z]{2,}\b)[A-Za-z]*[a-z][A-Za-z]*\b")  # acronyms are neutral
# Words a person doing the task should never read (issue 10, "Forms that respect people").
DEVELOPER_WORDS = re.compile(
    r"\bparams?\b|\bparameters?\b|参数|字段名|(?-i:\bPOST\b|\bGET\b)|/api/|\bnull\b|\b422\b"
    r"|validator|验证器|\bhandlers?\b|\.register\b|\b[a-z]+\.[a-z_]{2,}\b|\b[a-z]+_[a-z_]+\b"
    r"|\btrue\b|\bfalse\b|\bR-\d|processes/|\.json\b|\bDMN\b|决策表|decision table",
    re.I,
)


def _catalogue() -> dict[str, str]:
    return read_catalogue((PROCESSES / CATALOGUE).read_bytes())


def _literals(text: str) -> list[str]:
    """String literals inside `{{ … }}` placeholders ("是" if x else "否") are texts too."""
    found = []
    for tag in TEMPLATE.findall(text):
        tag = LABEL_FILTER.sub("", tag)  # label("group") names a group of codes, no text
        found += [a or b for a, b in STRING_LITERAL.findall(tag)]
    return [s for s in found if s.strip() and s not in (", ", "、", "；", "; ")]


def _problems(text: str, english: str | None) -> list[str]:
    problems = []
    chinese = TEMPLATE.sub(" ", text)
    if ENGLISH_WORD.search(chinese) or any(ENGLISH_WORD.search(s) for s in _literals(text)):
        problems.append("English in the Chinese source")
    if DEVELOPER_WORDS.search(chinese):
        problems.append(f"developer word {DEVELOPER_WORDS.search(chinese).group()!r}")
    if english is None:
        return [*problems, "no English translation"]
    bare = TEMPLATE.sub(" ", english)
    if CJK.search(bare) or any(CJK.search(s) for s in _literals(english)):
        problems.append("Chinese in the English translation")
    if DEVELOPER_WORDS.search(bare):
        problems.append(f"developer word in English {DEVELOPER_WORDS.search(bare).group()!r}")
    return problems


def test_every_text_of_the_definitions_is_chinese_with_an_english_translation_for_people():
    english = _catalogue()
    found = []
    for path in text_files(PROCESSES):
        for item in file_texts(path):
            for problem in _problems(item.text, english.get(item.text)):
                found.append(f"{path.name}:{item.line} {item.where}: {problem}: {item.text[:60]!r}")
    assert found == []


def test_the_checks_catch_bilingual_texts_developer_words_and_missing_translations():
    assert _problems("提交认证申请 Submit application", "Submit application")
    assert _problems("字段名即 application.register 的参数名", "Field names are parameters")
    assert _problems("无则 null", "None")
    assert _problems('{{ "是 yes" if x else "否 no" }}', '{{ "yes" if x else "no" }}')
    assert _problems("提交认证申请", None) == ["no English translation"]
    assert _problems("提交认证申请", "Submit the application") == []


def test_every_form_option_has_a_label_not_a_raw_code():
    import json

    raw = []
    for path in sorted((PROCESSES / "forms").glob("*.json")):

        def walk(node, where, path=path):
            if isinstance(node, dict):
                if "enum" in node and "title" in node and "oneOf" not in node:  # bare codes
                    raw.append(f"{path.name}{where}")
                for branch in node.get("oneOf", []) if isinstance(node.get("oneOf"), list) else []:
                    if isinstance(branch, dict) and "const" in branch and not branch.get("title"):
                        raw.append(f"{path.name}{where}/oneOf {branch['const']!r}")
                for key, value in node.items():
                    walk(value, f"{where}/{key}")
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    walk(value, f"{where}/{index}")

        walk(json.loads(path.read_text(encoding="utf-8")), "")
    assert raw == []


# -- the split tool ------------------------------------------------------------------------------
def test_split_names_descriptions_and_instructions():
    assert split_name("提交认证申请 Submit application") == ("提交认证申请", "Submit application")
    assert split_name("批准? Approved?") == ("批准?", "Approved?")
    assert split_name("提交认证申请") is None  # converted before
    assert split_name("Submit application") is None  # English only: not ours to split
    assert split_description("与营业执照一致 / As on the business licence.") == (
        "与营业执照一致",
        "As on the business licence.",
    )
    zh, en = split_block(
        "## 受理评审 Acceptance review — {{ no }}\n\n- 申请组织 Applicant: **{{ org }}**\n\n"
        "请评审。 Please review."
    )
    assert zh == "## 受理评审 — {{ no }}\n\n- 申请组织：**{{ org }}**\n\n请评审。"
    assert en == "## Acceptance review — {{ no }}\n\n- Applicant: **{{ org }}**\n\nPlease review."


def test_the_tool_is_idempotent_on_the_tree_and_converts_new_bilingual_texts(tmp_path):
    check = subprocess.run(
        [sys.executable, str(TOOL), str(PROCESSES), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr

    copy = tmp_path / "processes"
    shutil.copytree(PROCESSES, copy)
    form = copy / "forms" / "contract.json"
    form.write_text(
        form.read_text(encoding="utf-8").replace(
            '"title": "合同编号"', '"title": "合同号码 Contract no."', 1
        ),
        encoding="utf-8",
    )
    bpmn = copy / "certification.bpmn"
    bpmn.write_text(
        bpmn.read_text(encoding="utf-8").replace(
            'name="签订认证合同"', 'name="签订合同 Sign the contract"', 1
        ),
        encoding="utf-8",
    )
    for _ in range(2):  # the second run finds nothing to do
        subprocess.run([sys.executable, str(TOOL), str(copy)], check=True, capture_output=True)
    assert '"title": "合同号码"' in form.read_text(encoding="utf-8")
    assert 'name="签订合同"' in bpmn.read_text(encoding="utf-8")
    english = read_catalogue((copy / CATALOGUE).read_bytes())
    assert english["合同号码"] == "Contract no."
    assert english["签订合同"] == "Sign the contract"
    again = subprocess.run(
        [sys.executable, str(TOOL), str(copy), "--check"], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stdout


def test_validate_reports_a_text_without_english(tmp_path):
    assert untranslated([PROCESSES]) == []
    copy = tmp_path / "processes"
    shutil.copytree(PROCESSES, copy)
    catalog = load_catalogue(copy / CATALOGUE)
    catalog.delete("签订认证合同")
    save_catalogue(catalog, copy / CATALOGUE)
    problems = untranslated([copy])
    assert problems
    assert all("no English translation: 签订认证合同" in p for p in problems)
    assert any("certification.bpmn" in p and "name" in p for p in problems)
