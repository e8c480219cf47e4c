"""The texts of process definitions in the language of the request (issue 10, "Labels
everywhere"): Chinese is the source written in the BPMN and forms; English comes from the
processes.po catalogue deployed with the definitions (certflow/process_texts.py).

The English of every deployed catalogue is merged, the newest deployment winning, so a task of an
older version still finds the English of its own texts while a corrected translation reaches every
instance with the next deploy. Parsed catalogues are cached by their content hash (deployed files
never change); which ones are deployed is read once per request.
"""

from copy import deepcopy
from functools import lru_cache
from typing import Any

from flask import request
from lxml import etree

from certflow.process_texts import (
    BPMN_NS,
    CATALOGUE,
    FORM_TEXT_KEYS,
    NAMED_ELEMENTS,
    read_catalogue,
    safe_xml_parser,
)
from webapp.i18n import current_language
from webapp.runtime import get_engine

_CATALOGUE_SUFFIX = CATALOGUE.as_posix()


@lru_cache(maxsize=64)
def _parsed(sha256: str) -> dict[str, str]:
    return read_catalogue(get_engine().source_content(sha256))


def _deployed_english() -> dict[str, str]:
    merged: dict[str, str] = {}
    for sha256 in get_engine().deployed_sources_ending(_CATALOGUE_SUFFIX):
        merged.update(_parsed(sha256))
    return merged


def request_language() -> str:
    """The page's language; for the JSON API the client's Accept-Language (default: the source)."""
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
        return "en" if best == "en" else "zh_CN"
    return current_language()


def translations() -> dict[str, str]:
    """{Chinese source: text to show} for this request ({} when it is in Chinese)."""
    if request_language() != "en":
        return {}
    cached = request.environ.get("certflow.process_texts")
    if cached is None:
        cached = request.environ["certflow.process_texts"] = _deployed_english()
    return cached


def ptext(text: Any) -> Any:
    """A name, title, description or instruction of a definition in the request's language."""
    if not isinstance(text, str) or not text:
        return text
    return translations().get(text, text)


def localize_schema(
    schema: dict[str, Any] | None, english: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """A copy of a form schema whose titles and descriptions (option titles too) are in the
    request's language; the schema the engine validates with stays as deployed. `english`: a
    catalogue to use instead of the deployed ones (a studio draft's own)."""
    english = translations() if english is None else english
    if not schema or not english:
        return schema

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in FORM_TEXT_KEYS and isinstance(value, str):
                    node[key] = english.get(value, value)
                elif key not in ("const", "enum", "default", "examples", "pattern"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        return node

    return walk(deepcopy(schema))


def localize_bpmn(content: bytes) -> bytes:
    """A deployed BPMN file with the names of its elements in the request's language, for the
    diagram on the instance page (the file itself stays as deployed)."""
    english = translations()
    if not english:
        return content
    root = etree.fromstring(content, safe_xml_parser())
    for element in root.iter(*(f"{{{BPMN_NS}}}{name}" for name in NAMED_ELEMENTS)):
        name = element.get("name")
        if name in english:
            element.set("name", english[name])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def init_process_texts(app) -> None:
    app.jinja_env.filters["ptext"] = ptext
    app.jinja_env.globals["ptext"] = ptext
