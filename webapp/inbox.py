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
from sqlalchemy import and_, or_, select, union

from certflow.db import db
from domain.models import Application, CaseBinding, Organisation
from engine.service import TASK_SORTS, TaskFilter
from webapp.access import (
    Viewer,
    application_link,
    organisation_link,
    task_organisations,
    task_scope,
)
from webapp.auth import current_viewer, deny
from webapp.i18n import china_day_end
from webapp.models import TaskFollowUp
from webapp.paging import page_count
from webapp.process_texts import ptext
from webapp.runtime import get_clock, get_engine

bp = Blueprint("inbox", __name__)

TABS = ("mine", "groups", "all")
DUE_FILTERS = ("overdue", "today", "week", "none")
SORTS = TASK_SORTS
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


def tab_filter(tab: str, viewer: Viewer) -> TaskFilter:
    """The open tasks of a tab (the engine's query; who sees what: webapp.access)."""
    mine = select(TaskFollowUp.task_id, TaskFollowUp.follow_up_at).where(
        TaskFollowUp.username == viewer.username
    )
    base = TaskFilter(state="open", follow_ups=mine)
    if tab == "mine":
        return replace(base, assignee=viewer.username)
    if tab == "groups":
        return replace(base, by_role_of=task_scope(viewer))
    return base  # "all": only for viewers who see every task


def _search_by_organisation(pattern_text: str):
    """Instance link: the name of the organisation of a linked application, or of the binding
    of a case a client started (before its application), contains the text."""
    pattern = _like(pattern_text)

    def link(instance_id, business_key):
        by_application = (
            select(Application.id)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(
                application_link(instance_id, business_key),
                Organisation.name.ilike(pattern, escape="\\"),
            )
            .exists()
        )
        by_binding = (
            select(CaseBinding.id)
            .join(Organisation, Organisation.id == CaseBinding.organisation_id)
            .where(
                CaseBinding.instance_id == instance_id,
                Organisation.name.ilike(pattern, escape="\\"),
            )
            .exists()
        )
        return or_(by_application, by_binding)

    return link


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(base: TaskFilter, query: InboxQuery, viewer: Viewer, now: datetime) -> TaskFilter:
    """The tab's filter narrowed by the URL's filters."""
    changes: dict[str, Any] = {}
    if query.process:
        changes["process_id"] = query.process
    if query.task:
        changes["name"] = query.task
    if query.org is not None:
        changes["linked_to"] = organisation_link(query.org)
    if query.key:
        changes["business_key"] = query.key
    if query.due == "overdue":
        changes["due_before"] = now
    elif query.due == "today":
        changes["due_before"] = china_day_end(now)
    elif query.due == "week":
        changes["due_before"] = china_day_end(now, days=6)
    elif query.due == "none":
        changes["no_due_date"] = True
    if query.followup:
        changes["follow_up_due"] = now
    if query.assignee == "me":
        changes["assignee"] = viewer.username
    elif query.assignee == "none":
        changes["unassigned"] = True
    elif query.assignee:
        changes["assignee"] = query.assignee
    if query.q:
        changes["text"] = query.q
        changes["text_link"] = _search_by_organisation(query.q)
    if "assignee" in changes and base.assignee not in (None, changes["assignee"]):
        changes["instance_ids"] = ()  # "mine" and another assignee: no task
    return replace(base, **changes)


def _organisation_options(base: TaskFilter) -> list[Organisation]:
    # The two ways of application_link as two statements: an OR of both in one join condition
    # reads every application (issue 16: pages at data volume); each alone is an index lookup.
    engine = get_engine()
    by_instance = engine.task_exists(
        replace(base, linked_to=lambda instance_id, _key: Application.instance_id == instance_id)
    )
    by_key = engine.task_exists(
        replace(base, linked_to=lambda _id, key: and_(key.is_not(None), Application.number == key))
    )
    linked = union(
        select(Application.organisation_id).where(by_instance),
        select(Application.organisation_id).where(by_key),
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
    engine = get_engine()
    counts = {
        "mine": engine.count_tasks(tab_filter("mine", viewer)),
        "groups": engine.count_tasks(tab_filter("groups", viewer)),
    }
    if viewer.sees_all_tasks:
        counts["all"] = engine.count_tasks(tab_filter("all", viewer))
    tab = query.tab or ("mine" if counts["mine"] else "groups")
    base = tab_filter(tab, viewer)
    chosen = filtered(base, query, viewer, now)
    # Without URL filters the page is its tab, counted above (issue 16: one query less).
    total = engine.count_tasks(chosen) if query.filtered else counts[tab]
    pages = page_count(total, query.per)
    page = min(query.page, pages)
    results = engine.list_tasks_with_follow_up(
        chosen, sort=query.sort, limit=query.per, offset=(page - 1) * query.per
    )
    organisations = task_organisations([row for row, _ in results])
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
    process_names = {v.process_id: ptext(v.name) for v in engine.latest_processes()}
    options = {
        "processes": [
            (pid, process_names.get(pid, pid)) for pid in engine.task_values(base, "process_id")
        ],
        "tasks": engine.task_values(base, "name"),
        "assignees": engine.task_values(base, "assignee"),
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
