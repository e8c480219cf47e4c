"""Texts of the process definitions for people: the names and instructions of BPMN elements and the
titles and descriptions of forms (issue 10, "Labels everywhere").

Chinese is the source text, written in the .bpmn and form .json files; English lives in one
message catalogue next to them, ``<processes>/translations/en/LC_MESSAGES/processes.po`` (its
own gettext domain, "processes"; msgid = the Chinese text, msgstr = the English one). The
catalogue is deployed with the definitions: `certflow deploy` stores it as a source file of every
process version, so a changed translation reaches production with a deploy, not a code release,
and an instance keeps the texts of its version.

This module finds the texts (`bpmn_texts`, `form_texts`), reads the catalogue
(`read_catalogue`), lists the texts without a translation (`untranslated`) and is the Babel
extractor for both kinds of file (processes/babel.cfg, `make translations`). Pure Python.
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from lxml import etree

DOMAIN = "processes"
CATALOGUE = Path("translations") / "en" / "LC_MESSAGES" / f"{DOMAIN}.po"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Elements whose `name` a person sees (inbox, task page, diagram). Not messages, signals and
# errors (identifiers of the model) nor lanes (role ids, shown through the role catalogue).
NAMED_ELEMENTS = frozenset(
    {
        "process",
        "participant",
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "task",
        "callActivity",
        "subProcess",
        "startEvent",
        "endEvent",
        "boundaryEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "sequenceFlow",
        "textAnnotation",
    }
)
FORM_TEXT_KEYS = ("title", "description")


@dataclass(frozen=True)
class Text:
    file: str
    line: int
    where: str  # element id and attribute ("Task_Submit name") or JSON path ("/properties/x/title")
    text: str


def safe_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def bpmn_texts(content: bytes, file: str = "") -> list[Text]:
    root = etree.parse(BytesIO(content), safe_xml_parser()).getroot()
    found: list[Text] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        ident = element.get("id") or qname.localname
        if qname.namespace == BPMN_NS and qname.localname in NAMED_ELEMENTS:
            name = element.get("name")
            if name and name.strip():
                found.append(Text(file, element.sourceline or 0, f"{ident} name", name))
        elif qname.namespace == SPIFF_NS and qname.localname == "instructionsForEndUser":
            text = element.text or ""
            if text.strip():
                owner = next(
                    (a.get("id") for a in element.iterancestors() if a.get("id")), "instructions"
                )
                found.append(Text(file, element.sourceline or 0, f"{owner} instructions", text))
    return found


def _walk_form(node: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{pointer}/{key}"
            if key in FORM_TEXT_KEYS and isinstance(value, str) and value.strip():
                yield here, value
            elif key not in ("const", "enum", "default", "examples", "pattern"):
                yield from _walk_form(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_form(value, f"{pointer}/{index}")


def form_texts(content: bytes, file: str = "") -> list[Text]:
    """Titles and descriptions of a form (oneOf option titles included), in document order."""
    document = json.loads(content.decode("utf-8"))
    lines = content.decode("utf-8").split("\n")
    found = []
    for pointer, text in _walk_form(document, ""):
        encoded = json.dumps(text, ensure_ascii=False)
        line = next((n for n, row in enumerate(lines, 1) if encoded in row), 0)
        found.append(Text(file, line, pointer, text))
    return found


def file_texts(path: Path) -> list[Text]:
    if path.suffix == ".bpmn":
        return bpmn_texts(path.read_bytes(), str(path))
    if path.suffix == ".json":
        return form_texts(path.read_bytes(), str(path))
    return []


def text_files(root: Path) -> list[Path]:
    """The files of a processes directory whose texts are translated."""
    if root.is_file():
        return [root]
    return sorted([*root.rglob("*.bpmn"), *(root / "forms").glob("*.json")])


# -- the catalogue ---------------------------------------------------------------------------------
def read_catalogue(content: bytes | None) -> dict[str, str]:
    """{Chinese source: English} of a processes.po (fuzzy and empty entries left out)."""
    if not content:
        return {}
    catalog = read_po(BytesIO(content), locale="en", domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def load_catalogue(path: Path) -> Catalog:
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale="en", domain=DOMAIN)
    return Catalog(locale="en", domain=DOMAIN, project="certflow processes", charset="utf-8")


def save_catalogue(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True)


def catalogue_path(start: Path) -> Path | None:
    """The catalogue of the processes directory that holds `start` (a file or the directory)."""
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents[:2]):
        if (candidate / CATALOGUE).exists():
            return candidate / CATALOGUE
    return None


def untranslated(paths: Iterable[Path]) -> list[str]:
    """`file:line: where: no English translation: text` for each text without an English entry
    in the catalogue of its processes directory (`certflow validate`). A directory without a
    catalogue is not checked."""
    problems = []
    files: list[Path] = []
    for given in paths:
        files.extend(text_files(given) if given.is_dir() else [given])
    cache: dict[Path, dict[str, str]] = {}
    for path in files:
        if path.suffix not in (".bpmn", ".json") or not path.exists():
            continue
        where = catalogue_path(path)
        if where is None:
            continue  # definitions without a catalogue are in one language only
        if where not in cache:
            cache[where] = read_catalogue(where.read_bytes())
        translations = cache[where]
        try:
            texts = file_texts(path)
        except (ValueError, etree.XMLSyntaxError):
            continue  # the definition checks report a file that does not parse
        for item in texts:
            if item.text not in translations:
                first = item.text.strip().split("\n")[0][:80]
                problems.append(
                    f"{path}:{item.line}: {item.where}: no English translation: {first}"
                )
    return problems


# -- Babel extractors (processes/babel.cfg) --------------------------------------------------------
def extract_bpmn(fileobj, keywords, comment_tags, options):
    for item in bpmn_texts(fileobj.read()):
        yield item.line, "", item.text, [item.where]


def extract_form(fileobj, keywords, comment_tags, options):
    for item in form_texts(fileobj.read()):
        yield item.line, "", item.text, [item.where]
