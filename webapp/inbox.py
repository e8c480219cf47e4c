"""The task inbox (`/`): tabs, filters, search, sort and pages — all kept in the URL.

Tabs: "mine" (assigned to me), "groups" (candidate role is one of my roles — for clients only
their organisation's tasks — whether assigned or not), "all" (every open task; admin and
quality_manager only). Filters: process, task name, organisation, business key, due (overdue /
due today / due this week / no due date), my follow-up date due, assignee; `q` searches task
names, business keys and organisation names.
"""

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import ColumnElement, and_, func, or_, select, true

from certflow.db import db
from domain.models import Application, Organisation
from engine.models import HumanTask
from webapp.access import (
    Viewer,
    application_link,
    belongs_to_organisation,
    task_by_role_clause,
    task_organisations,
)
from webapp.auth import current_viewer, deny
from webapp.i18n import china_day_end
from webapp.models import TaskFollowUp
from webapp.process_texts import ptext
from webapp.runtime import get_clock, get_engine

bp = Blueprint("inbox", __name__)

TABS = ("mine", "groups", "all")
DUE_FILTERS = ("overdue", "today", "week", "none")
SORTS = ("due", "-due", "created", "-created", "name", "-name")
PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_SORT, DEFAULT_PER_PAGE = "due", 20
MAX_TEXT = 200


@dataclass(frozen=True)
class InboxQuery:
    """The inbox state of one URL; `url()` builds the URL of a changed state."""

    tab: str = ""
    process: str = ""
    task: str = ""
    org: int | None = None
    key: str = ""
    due: str = ""
    followup: bool = False
    assignee: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    per: int = DEFAULT_PER_PAGE

    @classmethod
    def from_args(cls, args: Any) -> "InboxQuery":
        def text(name: str) -> str:
            value = args.get(name, "")
            return value.replace("\x00", "").strip()[:MAX_TEXT]

        def number(name: str, default: int, allowed: Any = None) -> int:
            value = args.get(name, "")
            if not value.isdigit() or len(value) > 9:
                return default
            parsed = int(value)
            if allowed is not None and parsed not in allowed:
                return default
            return max(parsed, 1)

        org = args.get("org", "")
        return cls(
            tab=text("tab") if text("tab") in TABS else "",
            process=text("process"),
            task=text("task"),
            org=int(org) if org.isdigit() and len(org) <= 9 else None,
            key=text("key"),
            due=text("due") if text("due") in DUE_FILTERS else "",
            followup=args.get("followup") == "1",
            assignee=text("assignee"),
            q=text("q"),
            sort=text("sort") if text("sort") in SORTS else DEFAULT_SORT,
            page=number("page", 1),
            per=number("per", DEFAULT_PER_PAGE, PAGE_SIZES),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query arguments for url_for, without the defaults."""
        state = replace(self, **changes)
        result: dict[str, Any] = {}
        for f in fields(state):
            value = getattr(state, f.name)
            if value in (None, "", False) or value == f.default:
                continue
            result[f.name] = "1" if value is True else value
        return result

    def url(self, **changes: Any) -> str:
        if "page" not in changes:
            changes["page"] = 1  # any other change starts again on page 1
        return url_for("inbox.index", **self.args(**changes))

    @property
    def filtered(self) -> bool:
        return any(
            (
                self.process,
                self.task,
                self.org,
                self.key,
                self.due,
                self.followup,
                self.assignee,
                self.q,
            )
        )


def tab_clause(tab: str, viewer: Viewer) -> ColumnElement[bool]:
    if tab == "mine":
        return HumanTask.assignee == viewer.username
    if tab == "groups":
        return task_by_role_clause(viewer)
    return true()  # "all": only for viewers who see every task


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def follow_up_column():
    """My follow-up date of a task: my own (TaskFollowUp) or else the task's from the model."""
    return func.coalesce(TaskFollowUp.follow_up_at, HumanTask.follow_up_at)


def filter_clauses(query: InboxQuery, viewer: Viewer, now: datetime) -> list[ColumnElement]:
    clauses: list[ColumnElement] = []
    if query.process:
        clauses.append(HumanTask.process_id == query.process)
    if query.task:
        clauses.append(HumanTask.name == query.task)
    if query.org is not None:
        clauses.append(
            belongs_to_organisation(query.org, HumanTask.instance_id, HumanTask.business_key)
        )
    if query.key:
        clauses.append(HumanTask.business_key == query.key)
    if query.due == "overdue":
        clauses.append(HumanTask.due_at < now)
    elif query.due == "today":
        clauses.append(HumanTask.due_at < china_day_end(now))
    elif query.due == "week":
        clauses.append(HumanTask.due_at < china_day_end(now, days=6))
    elif query.due == "none":
        clauses.append(HumanTask.due_at.is_(None))
    if query.followup:
        clauses.append(follow_up_column() <= now)
    if query.assignee == "me":
        clauses.append(HumanTask.assignee == viewer.username)
    elif query.assignee == "none":
        clauses.append(HumanTask.assignee.is_(None))
    elif query.assignee:
        clauses.append(HumanTask.assignee == query.assignee)
    if query.q:
        pattern = _like(query.q)
        by_organisation = (
            select(Application.id)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(
                application_link(HumanTask.instance_id, HumanTask.business_key),
                Organisation.name.ilike(pattern, escape="\\"),
            )
            .exists()
        )
        clauses.append(
            or_(
                HumanTask.name.ilike(pattern, escape="\\"),
                HumanTask.business_key.ilike(pattern, escape="\\"),
                by_organisation,
            )
        )
    return clauses


def order_by(sort: str) -> list:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "due":
        column = HumanTask.due_at.desc() if descending else HumanTask.due_at.asc()
        # Tasks without a due date come last either way (portable: no NULLS LAST).
        return [HumanTask.due_at.is_(None), column, HumanTask.created_at, HumanTask.id]
    if key == "name":
        column = HumanTask.name.desc() if descending else HumanTask.name.asc()
        return [column, HumanTask.created_at, HumanTask.id]
    column = HumanTask.created_at.desc() if descending else HumanTask.created_at.asc()
    return [column, HumanTask.id]


def _count(*clauses: ColumnElement) -> int:
    statement = (
        select(func.count(HumanTask.id))
        .outerjoin(TaskFollowUp, _my_follow_up_join())
        .where(HumanTask.state == "open", *clauses)
    )
    return db.session.scalar(statement) or 0


def _my_follow_up_join() -> ColumnElement[bool]:
    return and_(
        TaskFollowUp.task_id == HumanTask.id,
        TaskFollowUp.username == current_viewer().username,
    )


def _distinct(column, *clauses: ColumnElement, limit: int = 200) -> list:
    return list(
        db.session.scalars(
            select(column)
            .where(HumanTask.state == "open", column.is_not(None), *clauses)
            .distinct()
            .order_by(column)
            .limit(limit)
        )
    )


def _organisation_options(*clauses: ColumnElement) -> list[Organisation]:
    linked = (
        select(Application.organisation_id)
        .join(HumanTask, application_link(HumanTask.instance_id, HumanTask.business_key))
        .where(HumanTask.state == "open", *clauses)
    )
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(linked))
            .order_by(Organisation.name)
            .limit(200)
        )
    )


@bp.get("/")
@login_required
def index():
    viewer = current_viewer()
    now = get_clock().now()
    query = InboxQuery.from_args(request.args)
    if query.tab == "all" and not viewer.sees_all_tasks:
        return deny(403, "the 'all open' tab needs admin or quality_manager")
    counts = {
        "mine": _count(tab_clause("mine", viewer)),
        "groups": _count(tab_clause("groups", viewer)),
    }
    if viewer.sees_all_tasks:
        counts["all"] = _count(tab_clause("all", viewer))
    tab = query.tab or ("mine" if counts["mine"] else "groups")
    base = tab_clause(tab, viewer)
    clauses = [base, *filter_clauses(query, viewer, now)]
    total = _count(*clauses)
    pages = max(1, -(-total // query.per))
    page = min(query.page, pages)
    statement = (
        select(HumanTask, TaskFollowUp.follow_up_at)
        .outerjoin(TaskFollowUp, _my_follow_up_join())
        .where(HumanTask.state == "open", *clauses)
        .order_by(*order_by(query.sort))
        .limit(query.per)
        .offset((page - 1) * query.per)
    )
    results = db.session.execute(statement).all()
    organisations = task_organisations([row.id for row, _ in results])
    actor = viewer.actor
    items = [
        {
            "task": row,
            "organisations": organisations.get(row.id, []),
            "overdue": row.due_at is not None and row.due_at < now,
            "follow_up": personal or row.follow_up_at,
            "follow_up_due": (personal or row.follow_up_at) is not None
            and (personal or row.follow_up_at) <= now,
            "may_claim": row.assignee is None and actor.may_act_for(row.candidate_role),
            "may_unclaim": row.assignee is not None
            and (row.assignee == viewer.username or viewer.is_supervisor),
        }
        for row, personal in results
    ]
    process_names = {v.process_id: ptext(v.name) for v in get_engine().list_latest_versions()}
    options = {
        "processes": [
            (pid, process_names.get(pid, pid)) for pid in _distinct(HumanTask.process_id, base)
        ],
        "tasks": _distinct(HumanTask.name, base),
        "assignees": _distinct(HumanTask.assignee, base),
        "organisations": _organisation_options(base) if viewer.is_staff else [],
    }
    state = replace(query, tab=tab, page=page)
    return render_template(
        "inbox.html",
        query=state,
        tab=tab,
        tabs=[t for t in TABS if t in counts],
        counts=counts,
        items=items,
        total=total,
        page=page,
        pages=pages,
        options=options,
        process_names=process_names,
        sorts=SORTS,
        page_sizes=PAGE_SIZES,
        due_filters=DUE_FILTERS,
        now=now,
        here=request.full_path.rstrip("?"),
    )
