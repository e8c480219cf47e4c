"""The evidence checklist widget (issue 10; R-8.5.2, R-8.5.4, R-3, R-5): a form field declared
`"x-widget": "indicator-checklist"` is shown as the audit's indicator set, 3 first-level and 15
second-level indicators with a row per third-level item, what earlier audit days recorded on each
item, and the running score with the star level it would give.

The rows are the field's array rows (webapp.forms_render), so the inputs, the parsing
(webapp.form_submission) and the error paths are the form's own: `f/findings/<i>/<field>`. A
row is only sent when something besides its item code is entered. The score is the domain's
(`domain.audit.checklist`), the star level the deployed DMN decision's (engine), never a copy.
"""

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit.checklist import ChecklistState, checklist_state
from domain.errors import RuleViolation
from domain.models import Attachment, Finding
from domain.scoring import Item
from engine.errors import EngineError
from webapp.access import may_download
from webapp.auth import current_viewer
from webapp.forms_render import Field, Form, Row

# The business rule task that turns the final score into the star level (processes/onsite_audit).
STAR_LEVEL_TASK = "Task_DetermineStarLevel"


@dataclass
class ItemRow:
    item: Item
    text: str  # the item's wording in the page's language
    row: Row  # the form row: inputs f/findings/<i>/…
    recorded: Finding | None  # the latest finding of an earlier day

    def input(self, name: str) -> Field:
        return next(f for f in self.row.fields if f.path[-1] == name)

    @property
    def has_errors(self) -> bool:
        return bool(self.row.errors) or any(f.errors for f in self.row.fields)

    @property
    def filled(self) -> bool:
        return any(f.value not in (None, "") for f in self.row.fields if f.path[-1] != "item_code")


@dataclass
class Group:
    code: str
    name: str
    children: list["Group"] = field(default_factory=list)
    rows: list[ItemRow] = field(default_factory=list)

    def all_rows(self) -> list[ItemRow]:
        return self.rows + [r for child in self.children for r in child.all_rows()]


@dataclass
class ChecklistView:
    groups: list[Group]
    state: ChecklistState
    star_level: int | None
    other_rows: list[Row]  # rows naming no item of the set (shown with their errors)
    labels: dict[str, dict[Any, str]]  # option labels of the row inputs, for recorded findings
    recorded_files: dict[str, list[Attachment]] = field(default_factory=dict)  # by item code

    @property
    def recorded_count(self) -> int:
        return len(self.state.recorded)


def attach(
    form: Form,
    *,
    session: Session,
    engine: Any,
    instance_id: int,
    data: dict[str, Any],
    values: dict[str, Any],
    fresh: bool,
    language: str,
) -> None:
    """Give every indicator-checklist field of `form` its view. `fresh`: the page shows a new
    day, so rows carried in from the task data (an earlier day's answers) are dropped."""
    for f in form.walk():
        if f.kind != "indicator_checklist" or "audit_id" not in data:
            continue
        if fresh:
            f.rows = []
        try:
            f.widget = _view(f, session, engine, instance_id, data, values, fresh, language)
        except (LookupError, RuleViolation):
            f.widget = None  # no audit or no indicator set: the page says so


def _view(f, session, engine, instance_id, data, values, fresh, language) -> ChecklistView:
    day_rows = [] if fresh else [r for r in (values.get(f.path[-1]) or []) if isinstance(r, dict)]
    state = checklist_state(
        session,
        data["audit_id"],
        day_rows,
        [] if fresh else values.get("special_deductions") or [],
        [] if fresh else values.get("special_bonus") or [],
    )
    english = language.startswith("en")
    rows_by_code: dict[str, Row] = {}
    other_rows: list[Row] = []
    for row in f.rows:
        code = next((c.value for c in row.fields if c.path[-1] == "item_code"), None)
        if code in rows_by_code or not any(i.code == code for i in state.indicator_set.items):
            other_rows.append(row)
        else:
            rows_by_code[code] = row
    next_index = len(f.rows)
    groups = []
    for first in state.indicator_set.indicators:
        group = Group(first.code, first.name_en if english else first.name_zh)
        for second in first.children:
            child = Group(second.code, second.name_en if english else second.name_zh)
            for item in second.items:
                row = rows_by_code.get(item.code)
                if row is None:
                    row = _new_row(f.template, f.path, next_index, item.code)
                    next_index += 1
                text = item.text_en if english else item.text_zh
                child.rows.append(ItemRow(item, text, row, state.recorded.get(item.code)))
            group.children.append(child)
        groups.append(group)
    labels = {}
    if f.template is not None:
        for c in f.template.fields:
            labels[str(c.path[-1])] = {o.value: o.label for o in c.options}
    view = ChecklistView(groups, state, _star_level(engine, instance_id, state), other_rows, labels)
    view.recorded_files = _recorded_files(session, state)
    return view


def _recorded_files(session: Session, state: ChecklistState) -> dict[str, list[Attachment]]:
    """The files of earlier findings that the viewer may download (R-11), by item code."""
    ids = {i for f in state.recorded.values() for i in (f.evidence_files or [])}
    if not ids:
        return {}
    viewer = current_viewer()
    found = {
        a.id: a
        for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))
        if may_download(viewer, a)
    }
    return {
        code: [found[i] for i in (f.evidence_files or []) if i in found]
        for code, f in state.recorded.items()
    }


def _new_row(template: Row | None, path: tuple, index: int, code: str) -> Row:
    """An empty row for `code` at `index` (a copy of the field's row template)."""
    row = copy.deepcopy(template)
    row.path = (*path, index)
    for input_field in row.fields:
        input_field.path = (*path, index, input_field.path[-1])
        if input_field.path[-1] == "item_code":
            input_field.value = code
    return row


def _star_level(engine: Any, instance_id: int, state: ChecklistState) -> int | None:
    """R-5: the star level the deployed decision gives for the running final score."""
    result = state.score.result
    if result is None:
        return None
    try:
        outputs = engine.evaluate_business_rule(
            instance_id,
            STAR_LEVEL_TASK,
            {"score": result.final_score, "special_deductions": result.special_deduction_count},
        )
    except EngineError:
        return None
    level = outputs.get("star_level")
    return level if isinstance(level, int) else None
