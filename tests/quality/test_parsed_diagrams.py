"""The quality manager's rule pages parse each deployed diagram once, and keep only the latest
PARSED_KEPT parsed diagrams (webapp/quality/rules.py): every deployed version must not stay in
the process's memory for its life."""

from tests.helpers import FIXTURES
from webapp.quality import rules

BPMN = (FIXTURES / "processes" / "review_flow.bpmn").read_bytes()


def test_a_diagram_is_parsed_once_and_the_oldest_are_dropped(monkeypatch):
    monkeypatch.setattr(rules, "_PARSED", type(rules._PARSED)())
    monkeypatch.setattr(rules, "PARSED_KEPT", 3)
    first = rules._parsed("review_flow.bpmn", BPMN, "review_flow", 1)
    assert rules._parsed("review_flow.bpmn", BPMN, "review_flow", 1) is first
    for version in range(2, 6):  # another comment, another content: another deployed version
        content = BPMN + f"<!-- version {version} -->".encode()
        rules._parsed("review_flow.bpmn", content, "review_flow", version)
    assert len(rules._PARSED) == 3
    assert rules._parsed("review_flow.bpmn", BPMN, "review_flow", 1) is not first  # parsed again
