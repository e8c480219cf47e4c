"""The case data a task shows read-only beside its form (issue 10): declared per task in
`processes/task_context.yaml` as panels, resolved here from the case's records, rendered by
`templates/macros/task_context.html`.

Staff only. A client sees of the process data exactly what `processes/client_data.yaml` declares
(webapp/client_data.py); no panel is ever built for a client. Files are listed only when the
viewer may download them (webapp.access.may_download).
"""

import functools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select

from certflow.db import db
from domain.audit.common import REPORT_KIND as AUDIT_REPORT_KIND
from domain.models import Application, Attachment, Audit, Document, Nonconformity
from engine.service import TaskView
from webapp import forms_render
from webapp.access import Viewer, may_download, may_read_document
from webapp.mark_use_context import mark_use_of_task
from webapp.runtime import get_engine

DECLARATIONS = Path(__file__).resolve().parent.parent / "processes" / "task_context.yaml"
PANELS = ("application", "nc_answers_with_files", "audit_report", "score", "nc_status", "team")
PANELS += ("mark_use",)  # R-10.1(a, f), R-10.2: webapp/mark_use_context.py
# Panels that show the task's audit or its nonconformities (templates/macros/task_context.html).
AUDIT_PANELS = frozenset({"audit_report", "score", "nc_status", "team", "nc_answers_with_files"})
NC_ANSWER_TASK = "Task_SubmitCorrections"  # the client's answers (nonconformity.bpmn)


def load_declarations(path: Path = DECLARATIONS) -> dict[str, dict[str, tuple[str, ...]]]:
    """process id → element id → panels, as written; unknown panels are refused."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result: dict[str, dict[str, tuple[str, ...]]] = {}
    for process_id, tasks in raw.items():
        result[str(process_id)] = {}
        for element_id, panels in (tasks or {}).items():
            if not isinstance(panels, list) or any(p not in PANELS for p in panels):
                raise ValueError(f"{path}: {process_id}.{element_id}: panels of {PANELS}")
            result[str(process_id)][str(element_id)] = tuple(panels)
    return result


@functools.cache
def panels_by_element(path: Path = DECLARATIONS) -> dict[str, tuple[str, ...]]:
    flat: dict[str, tuple[str, ...]] = {}
    for process_id, tasks in load_declarations(path).items():
        for element_id, panels in tasks.items():
            if element_id in flat:
                raise ValueError(f"{path}: {element_id} is declared twice ({process_id})")
            flat[element_id] = panels
    return flat


@dataclass
class TaskContext:
    panels: tuple[str, ...] = ()
    application: Application | None = None
    application_files: list[Attachment] = field(default_factory=list)
    audit: Audit | None = None
    report: Document | None = None
    nonconformities: list[Nonconformity] = field(default_factory=list)
    nc_counts: dict[str, int] = field(default_factory=dict)
    answer_files: dict[int, list[Attachment]] = field(default_factory=dict)
    mark_use: Any = None  # webapp.mark_use_context.MarkUse

    def __bool__(self) -> bool:
        return bool(self.panels)


def task_context(viewer: Viewer, row: TaskView, data: dict[str, Any]) -> TaskContext:
    """The declared panels of the task with their records; empty for a client or undeclared."""
    panels = panels_by_element().get(row.element_id, ())
    if not panels or not viewer.is_staff:
        return TaskContext()
    context = TaskContext(panels=panels)
    # Only the records the declared panels show (issue 16): e.g. a mark-use review reads no
    # application, audit or nonconformities.
    wants_audit = not AUDIT_PANELS.isdisjoint(panels)
    if "application" in panels or wants_audit:
        context.application = _application(row)
    if wants_audit:
        context.audit = _audit(data, context.application)
    if "application" in panels and context.application is not None:
        context.application_files = _files(
            viewer,
            db.session.scalars(
                select(Attachment)
                .where(Attachment.application_id == context.application.id)
                .order_by(Attachment.id)
            ),
        )
    audit = context.audit
    if audit is not None:
        context.nonconformities = list(audit.nonconformities)
        context.nc_counts = dict(Counter(nc.status for nc in context.nonconformities))
        if "audit_report" in panels:
            context.report = _latest_report(viewer, audit)
    if "nc_answers_with_files" in panels:
        context.answer_files = _answer_files(viewer, row)
    if "mark_use" in panels:
        context.mark_use = mark_use_of_task(data)
    return context


def _application(row: TaskView) -> Application | None:
    link = Application.instance_id == row.instance_id
    if row.business_key is not None:
        link = or_(link, Application.number == row.business_key)
    return db.session.scalars(
        select(Application).where(link).order_by(Application.id.desc())
    ).first()


def _audit(data: dict[str, Any], application: Application | None) -> Audit | None:
    """The audit the task is about: its `audit_id`, else the application's latest audit."""
    audit_id = data.get("audit_id")
    if isinstance(audit_id, int) and not isinstance(audit_id, bool) and audit_id > 0:
        audit = db.session.get(Audit, audit_id)
        if audit is not None:
            return audit
    if application is None:
        return None
    return db.session.scalars(
        select(Audit).where(Audit.application_id == application.id).order_by(Audit.id.desc())
    ).first()


def _latest_report(viewer: Viewer, audit: Audit) -> Document | None:
    report = db.session.scalars(
        select(Document)
        .where(Document.audit_id == audit.id, Document.kind == AUDIT_REPORT_KIND)
        .order_by(Document.id.desc())
    ).first()
    return report if report is not None and may_read_document(viewer, report) else None


def _answer_files(viewer: Viewer, row: TaskView) -> dict[int, list[Attachment]]:
    """nc id → the files the client sent with its answers to it (every round, in order); files
    of the answer forms not tied to one answer are under 0."""
    engine = get_engine()
    by_nc: dict[int, list[int]] = {}
    answered = [  # in the order the rounds were submitted
        (task, submitted)
        for task, submitted in engine.submitted_forms([row.instance_id])
        if task.element_id == NC_ANSWER_TASK
    ]
    for task, submitted in answered:
        tied: set[int] = set()
        for answer in submitted.get("answers") or []:
            if not isinstance(answer, dict) or not isinstance(answer.get("nc_id"), int):
                continue
            files = [f for f in answer.get("evidence_files") or [] if isinstance(f, int)]
            by_nc.setdefault(answer["nc_id"], []).extend(files)
            tied.update(files)
        schema = engine.task_form(task)
        loose = forms_render.build_form(schema, submitted, spare_rows=0).attachment_ids() - tied
        by_nc.setdefault(0, []).extend(sorted(loose))
    wanted = {i for ids in by_nc.values() for i in ids}
    if not wanted:
        return {}
    rows = {
        a.id: a
        for a in _files(
            viewer, db.session.scalars(select(Attachment).where(Attachment.id.in_(sorted(wanted))))
        )
    }
    return {nc: [rows[i] for i in ids if i in rows] for nc, ids in by_nc.items()}


def _files(viewer: Viewer, rows: Any) -> list[Attachment]:
    return [a for a in rows if may_download(viewer, a)]
