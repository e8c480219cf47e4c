"""What a draft's call activities and business rule tasks may call, for the properties panel
(issue 12, "Editing"): the processes defined in the draft's BPMN files (calledElement) and the
decisions of its DMN files (spiffworkflow:calledDecisionId), each labelled with its name in the
page's language and its id — chosen from a list, never typed. A draft holds every source its
process depends on (as deployed), and `certflow validate` resolves a call only within those
files: a deployed process outside the draft would be refused, so it is not offered."""

from io import BytesIO
from typing import Any

from lxml import etree

from certflow.process_texts import safe_xml_parser
from domain.decision_table import read_tables
from domain.models_studio import ProcessDraft
from webapp.process_texts import ptext

BPMN_PROCESS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}process"


def _processes(content: str) -> list[tuple[str, str]]:
    try:
        root = etree.parse(BytesIO(content.encode("utf-8")), safe_xml_parser()).getroot()
    except etree.XMLSyntaxError:  # live validation reports the broken file on its own
        return []
    return [(p.get("id", ""), p.get("name") or p.get("id", "")) for p in root.iter(BPMN_PROCESS)]


def called_catalogue(draft: ProcessDraft) -> dict[str, list[dict[str, Any]]]:
    processes, decisions = [], []
    for path, content in sorted(draft.files.items()):
        if path.endswith(".bpmn"):
            processes += [
                {"id": pid, "label": f"{ptext(name)} ({pid})"}
                for pid, name in _processes(content)
                if pid and pid != draft.process_id  # a process never calls itself
            ]
        elif path.endswith(".dmn"):
            try:
                tables = read_tables(content)
            except ValueError:
                continue
            decisions += [
                {"id": table.decision_id, "label": f"{ptext(table.name)} ({table.decision_id})"}
                for table in tables
            ]
    return {
        "processes": sorted(processes, key=lambda row: row["id"]),
        "decisions": sorted(decisions, key=lambda row: row["id"]),
    }
