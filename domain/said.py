"""Texts a person reads, kept in both languages until a page shows one (issue 10: one language
per page). A handler that words a reason for people — a refused appointment, an impartiality
flag — stores ``said(rule, zh, en)``; the page picks its language with `in_language`
(webapp/instructions.py does it for every value an instruction prints). No Flask here."""

from collections.abc import Iterable, Mapping
from typing import Any

LANGUAGES = ("zh_CN", "en")
SOURCE = "zh_CN"


def said(rule: str | None, zh: str, en: str) -> dict[str, Any]:
    """A reason in Chinese and English; `rule` (an R-id) is for programs and tests, the texts
    cite it in words ("规则第7.2.2条" / "rule 7.2.2")."""
    if rule is None:
        return {"rule": None, "zh_CN": zh, "en": en}
    clause = rule.removeprefix("R-")
    number, _, item = clause.partition("(")  # "7.2.1(4)": clause 7.2.1, item (4)
    cited = f"规则第{number}条" + (f"（{item.rstrip(')')}）" if item else "")
    return {"rule": rule, "zh_CN": f"{cited}：{zh}", "en": f"Rule {clause}: {en}"}


class SaidText(str):
    """A said text where one string is expected (a form's field error): the string is the
    Chinese text (what the engine and the API give), `texts` keeps both for the page."""

    texts: dict[str, Any]

    def __new__(cls, value: Mapping[str, Any]) -> "SaidText":
        text = super().__new__(cls, value[SOURCE])
        text.texts = dict(value)
        return text


def is_said(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(value.get(k), str) for k in LANGUAGES)


def in_language(value: Any, locale: str) -> Any:
    """The text of `value` in `locale` when it is a said text; any other value as it is."""
    if isinstance(value, SaidText):
        value = value.texts
    if not is_said(value):
        return value
    return value[locale if locale in LANGUAGES else SOURCE]


def joined(texts: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """Several said texts as one (the first one's rule), None for none."""
    items = list(texts)
    if not items:
        return None
    return {
        "rule": items[0].get("rule"),
        "zh_CN": "；".join(t["zh_CN"] for t in items),
        "en": "; ".join(t["en"] for t in items),
    }
