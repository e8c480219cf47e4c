"""The rules catalogue (issue 13, "Rules traceability, visible"): every requirement id of the
catalogue (../shared/spec/requirements.md) with the Chinese text of the clause it stands for
(../shared/spec/certification-rules.zh.txt, the certification body's implementation rules).

The spec lives beside the checkout, not in it; the running application reads the committed
extract `processes/rules_catalogue.yaml`, which `certflow rules catalogue` writes from the spec
and tests/definitions/test_rules_coverage.py keeps equal to it.

Ids: `R-8.10.1` is clause 8.10.1 with its sub-clauses (8.5.7 includes 8.5.7.1 and 8.5.7.2)
unless the catalogue lists a sub-clause as a rule of its own (8.5 stops where 8.5.1 starts);
`R-6.2.2a` is item a) of clause 6.2.2."""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = ROOT / "processes" / "rules_catalogue.yaml"

CATALOGUE_ID = re.compile(r"^- (R-[\d.]+[a-z]?) ", re.MULTILINE)
RULE_ID = re.compile(r"^R-(?P<clause>\d+(?:\.\d+)*)(?P<item>[a-z])?$")
# A heading: a clause number at the start of a line ("8.5. 2" and "7、" as the text writes them),
# then its title or its first words. List items ("1)", "a)") and numbers inside sentences are not.
HEADING = re.compile(r"^\s*(?P<number>\d{1,2}(?:\.\s?\d{1,2})*)(?:、|\.(?!\d)|\s|(?=[^\d\s.)）]))")
PAGE_MARK = re.compile(r"^\s*~\s*\d+\s*~\s*$")
LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}\s?[)）]|[a-z]\s?[)）]|[（(]\d+[)）]|---)")


@dataclass(frozen=True)
class Rule:
    id: str  # R-6.2.2a
    clause: str  # 8.10.1
    item: str | None  # a (of R-6.2.2a)
    text_zh: str  # the clause as the rules write it, list items on lines of their own


def summary_zh(rule: Rule) -> str:
    """The rule in a few Chinese words, from its own text: the clause's title ("受理结论"), or
    its first sentence when the clause has none; an item (R-6.2.2a) by its own first words."""
    lines = rule.text_zh.splitlines()
    if not lines:
        return ""
    first = lines[1] if rule.item and len(lines) > 1 else lines[0]
    first = re.sub(r"^\s*(?:\d{1,2}(?:\.\s?\d{1,2})*[、.]?|[a-z]\s?[)）])\s*", "", first)
    if _is_title(lines[0]) and not rule.item:
        return first
    return re.split(r"(?<=[。：；])", first, maxsplit=1)[0].rstrip("。：；")


def catalogue_ids(requirements_md: str) -> list[str]:
    """The requirement ids of the catalogue, in its order."""
    return CATALOGUE_ID.findall(requirements_md)


def _follows(key: tuple[int, ...], last: tuple[int, ...]) -> bool:
    """`key` is the next clause after `last`: its first sub-clause (8.6 → 8.6.1) or the next
    one at some level (8.5.7.2 → 8.6, 8.11 → 9)."""
    if key == (*last, 1):
        return True
    depth = len(key)
    return depth <= len(last) and key == (*last[: depth - 1], last[depth - 1] + 1)


def _headings(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, clause number) of every heading, in order; a number that is not the next
    clause (a figure that starts a wrapped line, "15个月") is text."""
    found: list[tuple[int, str]] = []
    last: tuple[int, ...] = ()
    for index, line in enumerate(lines):
        match = HEADING.match(line)
        if match is None or LIST_ITEM.match(line):
            continue
        number = re.sub(r"\s", "", match.group("number")).rstrip(".")
        key = tuple(int(part) for part in number.split("."))
        if _follows(key, last):
            found.append((index, ".".join(map(str, key))))
            last = key
    return found


def _is_title(line: str) -> bool:
    """A heading line that holds only the clause's title ("8.6.1 总则", "6.2.2 受理结论")."""
    return bool(HEADING.match(line)) and len(line) <= 30 and not re.search(r"[。；：]", line)


def _join(lines: list[str]) -> str:
    """Lines broken by the page layout joined again; headings, the line after a title and list
    items start a line of their own."""
    text, previous = "", ""
    for line in lines:
        line = line.strip()
        if not line or PAGE_MARK.match(line):
            continue
        new_line = LIST_ITEM.match(line) or HEADING.match(line) or _is_title(previous)
        text += ("\n" if text and new_line else "") + line
        previous = line
    return text


def _is_under(number: str, clause: str) -> bool:
    return number == clause or number.startswith(clause + ".")


def clause_texts(rules_zh: str, clauses: list[str]) -> dict[str, str]:
    """{clause: its text} for each of `clauses`: from its heading to the next heading that is
    not one of its sub-clauses, or is a clause of the list itself."""
    lines = rules_zh.splitlines()
    headings = _headings(lines)
    texts: dict[str, str] = {}
    for position, (start, number) in enumerate(headings):
        if number not in clauses:
            continue
        end = len(lines)
        for next_start, next_number in headings[position + 1 :]:
            if not _is_under(next_number, number) or next_number in clauses:
                end = next_start
                break
        texts[number] = _join(lines[start:end])
    return texts


def _item_text(text: str, item: str) -> str:
    """Item `a)` of a clause: its heading line, then from `a)` to the next lettered item."""
    heading, _, body = text.partition("\n")
    parts = re.split(r"(?m)^(?=[a-z]\s?[)）])", body)
    for part in parts:
        if re.match(rf"{item}\s?[)）]", part):
            return f"{heading}\n{part.strip()}"
    return text


def build_rules(requirements_md: str, rules_zh: str) -> list[Rule]:
    """Every catalogue rule with its Chinese text ("" when the clause is not found)."""
    ids = catalogue_ids(requirements_md)
    parsed = {rid: RULE_ID.match(rid) for rid in ids}
    clauses = sorted({m.group("clause") for m in parsed.values() if m})
    texts = clause_texts(rules_zh, clauses)
    rules = []
    for rid in ids:
        match = parsed[rid]
        if match is None:
            rules.append(Rule(rid, rid.removeprefix("R-"), None, ""))
            continue
        clause, item = match.group("clause"), match.group("item")
        text = texts.get(clause, "")
        rules.append(Rule(rid, clause, item, _item_text(text, item) if item and text else text))
    return rules


def dump_rules(rules: list[Rule]) -> str:
    header = (
        "# The rules catalogue: every requirement id of ../shared/spec/requirements.md with the\n"
        "# Chinese text of its clause (../shared/spec/certification-rules.zh.txt). Generated by\n"
        "# `certflow rules catalogue`; do not edit (tests/definitions/test_rules_coverage.py).\n"
    )
    data = [{"id": r.id, "clause": r.clause, "item": r.item, "text_zh": r.text_zh} for r in rules]
    return header + yaml.dump(
        {"rules": data}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000
    )


class _Dumper(yaml.SafeDumper):
    """Texts of several lines as literal blocks: the file reads as the rules do."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def load_rules(path: Path = RULES_FILE) -> list[Rule]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Rule(r["id"], r["clause"], r.get("item"), r["text_zh"]) for r in data["rules"]]
