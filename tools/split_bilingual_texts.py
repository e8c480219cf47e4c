"""Convert bilingual texts of the process definitions into a Chinese source + an English catalogue
entry (issue 10, certflow/process_texts.py).

    python tools/split_bilingual_texts.py [PROCESSES_DIR] [--check]

Finds in processes/**/*.bpmn (element names, instructionsForEndUser) and processes/forms/*.json
(title, description, option titles) the texts written as "中文 English" (names, titles),
"中文 / English" (descriptions) or with Chinese and English lines/sentences side by side
(instructions), writes the Chinese part back into the file and the English part into
processes/translations/en/LC_MESSAGES/processes.po (msgid = Chinese, msgstr = English).

Idempotent: a text that is Chinese only (converted before) or English only is left alone, and an
existing catalogue entry is kept unless the split text brings a new translation. A text it cannot
split cleanly (Chinese left in the English part) is reported; fix those by hand.
--check: change nothing, list what would be converted (exit 1 when anything would).
"""

import argparse
import html
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from certflow.process_texts import CATALOGUE, NAMED_ELEMENTS, load_catalogue, save_catalogue  # noqa: E402

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef“”‘’《》【】…—·"
HAS_CJK = re.compile(f"[{CJK}]")
# Placeholders, rule ids and markup pass through both languages unchanged.
MASK = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|R-\d+(?:\.\d+)*(?:\([a-z]\)|[a-z])?(?:\s*[–-]\s*R-\d+(?:\.\d+)*)?"
    r"|GB/T \d+-\d+|GB \d+-\d+|#\d+|https?://\S+"
)
ENGLISH_WORD = re.compile(
    r"\b(?=[A-Za-z]{2,}\b)[A-Za-z]*[a-z][A-Za-z]*\b"
)  # acronyms (CNCA, CB) are neutral
SENTENCE_END = "。！？）」』】.!?)"
FULLWIDTH = {"（": " (", "）": ")", "：": ": ", "；": "; ", "，": ", ", "。": ". ", "、": ", "}


def _masked(text: str) -> str:
    return MASK.sub(lambda m: "\0" * len(m.group()), text)


def has_english(text: str) -> bool:
    return bool(ENGLISH_WORD.search(_masked(text)))


def has_cjk(text: str) -> bool:
    return bool(HAS_CJK.search(_masked(text)))


def _last_cjk(masked: str) -> int:
    positions = [m.end() for m in HAS_CJK.finditer(masked)]
    return positions[-1] if positions else -1


def split_name(text: str) -> tuple[str, str] | None:
    """ "中文 English" → ("中文", "English"); None when the text is not bilingual."""
    if not (has_cjk(text) and has_english(text)):
        return None
    masked = _masked(text)
    end = _last_cjk(masked)
    while end < len(text) and text[end] in CJK_PUNCT + "?？":
        end += 1
    zh, en = text[:end].strip(), text[end:].strip()
    if not en or has_cjk(en) or has_english(zh):
        return _split_pairs(text)
    return zh, en


def split_description(text: str) -> tuple[str, str] | None:
    """ "中文 / English" → ("中文", "English") at the first " / " with no Chinese after it."""
    if not (has_cjk(text) and has_english(text)):
        return None
    start = 0
    while (at := text.find(" / ", start)) >= 0:
        zh, en = text[:at].strip(), text[at + 3 :].strip()
        if has_cjk(zh) and not has_cjk(en) and has_english(en):
            return zh, en
        start = at + 1
    if "\n" not in text:
        masked = _masked(text)
        end = _last_cjk(masked)
        while end < len(text) and text[end] in CJK_PUNCT + SENTENCE_END:
            end += 1
        zh, en = text[:end].strip(), text[end:].strip()
        if en and not has_cjk(en) and not has_english(zh):
            return zh, en
    return split_block(text)


def _split_pairs(line: str) -> tuple[str, str]:
    """A line of "中文 English" pairs ("申请组织 Applicant: {{ x }} · 星级 Level: 3"): the Chinese
    keeps its words and drops the English that follows them, the English the other way round."""
    masked = _masked(line)
    zh_parts: list[str] = []
    en_parts: list[str] = []
    # Runs: Chinese (with its punctuation), English words (to the next delimiter), the rest.
    pattern = re.compile(
        f"(?P<zh>[{CJK}][{CJK}{CJK_PUNCT}\\d\\s/]*?)(?=$|[^{CJK}{CJK_PUNCT}\\d\\s/])"
        f"|(?P<en>[A-Za-z][A-Za-z0-9'’ ,.\\-/]*)"
        f"|(?P<other>.)",
        re.S,
    )
    tokens = [
        (m.lastgroup, line[m.start() : m.end()], masked[m.start() : m.end()])
        for m in pattern.finditer(masked)
    ]
    i = 0
    while i < len(tokens):
        kind, raw, _ = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if kind == "zh" and following and following[0] == "en" and raw.endswith(" "):
            zh_parts.append(raw.rstrip() + (" " if following[1].endswith(" ") else ""))
            en_parts.append(following[1])
            i += 2
            continue
        if kind == "zh":
            zh_parts.append(raw)
            en_parts.append(raw)  # left for the hand check (reported)
        elif kind == "en":
            zh_parts.append(raw)
            en_parts.append(raw)
        else:
            zh_parts.append(raw)
            en_parts.append(raw)
        i += 1
    zh = "".join(zh_parts)
    zh = re.sub(r"(?<=[" + CJK + r"]):\s?", "：", zh)
    en = "".join(en_parts)
    for full, half in FULLWIDTH.items():
        en = en.replace(full, half)
    return re.sub(r" {2,}", " ", zh).strip(), re.sub(r" {2,}", " ", en).strip()


def _split_line(line: str) -> tuple[str | None, str | None]:
    """(Chinese line or None, English line or None) of one line of an instruction."""
    cjk, english = has_cjk(line), has_english(line)
    if not cjk and not english:
        return line, line
    if cjk and not english:
        return line, None
    if english and not cjk:
        return None, line
    masked = _masked(line)
    end = _last_cjk(masked)
    while end < len(line) and line[end] in SENTENCE_END + CJK_PUNCT:
        end += 1
    head, tail = line[:end], line[end:]
    # "中文句子。 English sentence." — a Chinese sentence, then its translation.
    if head.rstrip()[-1:] in SENTENCE_END and tail.strip() and not has_cjk(tail):
        prefix = re.match(r"^\s*(?:[-*>]|\d+\.|#+)?\s*", line).group()
        return head.rstrip(), prefix + tail.strip()
    return _split_pairs(line)


def split_block(text: str) -> tuple[str, str]:
    zh_lines: list[str] = []
    en_lines: list[str] = []
    for line in text.split("\n"):
        zh, en = _split_line(line)
        if zh is not None:
            zh_lines.append(zh)
        if en is not None:
            en_lines.append(en)

    def tidy(lines: list[str]) -> str:
        joined = "\n".join(lines)
        joined = re.sub(r"\n{3,}", "\n\n", joined)
        return joined.strip("\n")

    return tidy(zh_lines), tidy(en_lines)


def split_text(text: str, kind: str) -> tuple[str, str] | None:
    if not (has_cjk(text) and has_english(text)):
        return None
    if kind == "name" or (kind == "title" and "\n" not in text):
        return split_name(text)
    if kind == "description":
        return split_description(text)
    return split_block(text)


# -- files -----------------------------------------------------------------------------------------
NAME_ATTR = re.compile(
    r"(<bpmn:(?:" + "|".join(sorted(NAMED_ELEMENTS)) + r')\b[^>]*?\sname=")([^"]*)(")'
)
INSTRUCTIONS = re.compile(
    r"(<spiffworkflow:instructionsForEndUser>)(.*?)(</spiffworkflow:instructionsForEndUser>)", re.S
)
FORM_TEXT = re.compile(r'("(?:title|description)"\s*:\s*)("(?:[^"\\]|\\.)*")')


def _xml_attr(text: str) -> str:
    return html.escape(text, quote=True).replace("&#x27;", "'").replace("\n", "&#10;")


def _xml_text(text: str) -> str:
    return html.escape(text, quote=False)


class Converter:
    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.doubtful: list[str] = []

    def convert(self, text: str, kind: str, where: str) -> str:
        split = split_text(text, kind)
        if split is None:
            return text
        zh, en = split
        if not zh or not en or has_cjk(en) or (kind != "instructions" and has_english(zh)):
            self.doubtful.append(f"{where}: {text[:100]!r} → {zh[:60]!r} / {en[:60]!r}")
        self.entries[zh] = en
        return zh

    def bpmn(self, content: str, file: str) -> str:
        content = NAME_ATTR.sub(
            lambda m: (
                m.group(1)
                + _xml_attr(self.convert(html.unescape(m.group(2)), "name", file))
                + m.group(3)
            ),
            content,
        )
        return INSTRUCTIONS.sub(
            lambda m: (
                m.group(1)
                + _xml_text(self.convert(html.unescape(m.group(2)), "instructions", file))
                + m.group(3)
            ),
            content,
        )

    def form(self, content: str, file: str) -> str:
        def replace(m: re.Match) -> str:
            kind = "title" if m.group(1).lstrip('"').startswith("title") else "description"
            text = json.loads(m.group(2))
            return m.group(1) + json.dumps(self.convert(text, kind, file), ensure_ascii=False)

        return FORM_TEXT.sub(replace, content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("processes", nargs="?", default="processes", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    root: Path = args.processes
    converter = Converter()
    changed = []
    files = sorted(root.rglob("*.bpmn")) + sorted((root / "forms").glob("*.json"))
    for path in files:
        before = path.read_text(encoding="utf-8")
        if path.suffix == ".bpmn":
            after = converter.bpmn(before, str(path))
        else:
            after = converter.form(before, str(path))
        if after != before:
            changed.append(path)
            if not args.check:
                path.write_text(after, encoding="utf-8")
    catalogue_file = root / CATALOGUE
    catalog = load_catalogue(catalogue_file)
    added = 0
    for zh, en in converter.entries.items():
        existing = catalog.get(zh)
        if existing is None or existing.string != en:
            added += 1
            if existing is not None:  # Catalog.add keeps an existing entry's translation
                catalog.delete(zh)
            catalog.add(zh, en)
    if not args.check and added:
        save_catalogue(catalog, catalogue_file)
    for line in converter.doubtful:
        print(f"check by hand: {line}", file=sys.stderr)
    verb = "would convert" if args.check else "converted"
    print(f"{verb} {len(changed)} file(s), {added} catalogue entr(y/ies)")
    return 1 if args.check and (changed or added) else 0


if __name__ == "__main__":
    sys.exit(main())
