"""Running cases and new versions in the studio (issue 12): on a deployed version, the running
cases of older versions with the dry run of each (movable, or refused naming the step), migrate
the chosen movable ones after a confirmation (each in its own transaction, the result per case),
and move a migrated case back to the version it came from.

Allowed to MIGRATE_INSTANCES (process owners and admin, certflow/permissions.py); the engine
decides what may move (engine/migration.py) and the page never repeats its checks."""

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from certflow.permissions import Permission, roles_with
from engine.errors import EngineError
from engine.migration import (
    CALLED_PROCESS_REMOVED,
    NOT_MAPPABLE,
    REMOVED,
    TYPE_CHANGED,
    MigrationCheck,
)
from webapp.access import instance_organisations
from webapp.auth import current_viewer, deny, roles_required
from webapp.paging import PageLinks, page_arg, page_count
from webapp.process_texts import ptext
from webapp.runtime import get_engine
from webapp.studio import bp

MIGRATORS = tuple(roles_with(Permission.MIGRATE_INSTANCES))
PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseRow:
    """One running case as the page shows it: who (organisation, case number), where it is,
    the dry run, and (after a migration) what happened."""

    check: MigrationCheck
    organisations: str
    case_label: str
    at_steps: str
    refusal_text: str
    outcome: str = ""
    outcome_kind: str = ""  # migrated | refused | conflict


def refusal_text(check: MigrationCheck) -> str:
    name = ptext(check.element_name or check.element_id or "")
    version = check.to_version
    texts = {
        REMOVED: _(
            "Refused: the step “%(name)s” the case has reached is removed in version %(v)s.",
            name=name,
            v=version,
        ),
        TYPE_CHANGED: _(
            "Refused: the step “%(name)s” the case has reached "
            "becomes another kind of element in version %(v)s.",
            name=name,
            v=version,
        ),
        CALLED_PROCESS_REMOVED: _(
            "Refused: the called process of “%(name)s”, which the case is running, "
            "is not part of version %(v)s.",
            name=name,
            v=version,
        ),
        NOT_MAPPABLE: _(
            "Refused: the case's state cannot be carried over to version %(v)s.", v=version
        ),
    }
    return texts.get(check.refusal, "") if check.refusal else ""


def case_row(check: MigrationCheck, outcome: str = "", outcome_kind: str = "") -> CaseRow:
    engine = get_engine()
    organisations = instance_organisations(check.instance_id, check.business_key)
    names = engine.step_names(check.instance_id)
    return CaseRow(
        check=check,
        organisations="、".join(o.name for o in organisations) or "—",
        case_label=check.business_key or _("Case %(id)s", id=check.instance_id),
        at_steps="、".join(ptext(names.get(e, e)) for e in check.active_elements) or "—",
        refusal_text=refusal_text(check),
        outcome=outcome,
        outcome_kind=outcome_kind,
    )


def _page(process_id: str, version: int, results: dict[int, CaseRow] | None = None, **kw: Any):
    """One page of the cases on older versions (each dry run loads a case and tries the move on
    a copy, so a version with thousands of running cases is read a page at a time)."""
    engine = get_engine()
    try:
        total = engine.count_migration_candidates(process_id, version)
        pages = page_count(total, PAGE_SIZE)
        page = min(page_arg(), pages)
        candidates = engine.migration_candidates(
            process_id, version, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        migrated = engine.migrated_instances(process_id, version, limit=PAGE_SIZE + 1)
    except EngineError:
        return deny(404, f"process {process_id!r} has no version {version}")
    results = results or {}
    return render_template(
        "studio/running.html",
        process_id=process_id,
        version=version,
        rows=[case_row(c) for c in candidates if c.instance_id not in results],
        results=list(results.values()),
        migrated=[case_row(c) for c in migrated[:PAGE_SIZE]],
        more_migrated=len(migrated) > PAGE_SIZE,
        total=total,
        page=page,
        pages=pages,
        rows_per_page=PAGE_SIZE,
        query=PageLinks("studio.running_cases"),
        **kw,
    )


@bp.get("/processes/<process_id>/versions/<int:version>/running")
@roles_required(*MIGRATORS)
def running_cases(process_id: str, version: int):
    return _page(process_id, version)


@bp.post("/processes/<process_id>/versions/<int:version>/migrate")
@roles_required(*MIGRATORS)
def migrate_cases(process_id: str, version: int):
    """Migrate the chosen cases, each in its own transaction; one failing leaves the others."""
    chosen = _chosen(request.form.getlist("instance"))
    errors = {}
    if not chosen:
        errors["instance"] = _("Choose at least one case that can move.")
    if request.form.get("confirm") != "yes":
        errors["confirm"] = _("Confirm that the chosen cases move to version %(v)s.", v=version)
    if errors:
        page = _page(process_id, version, errors=errors)
        return (page, 422) if isinstance(page, str) else page
    engine = get_engine()
    actor = current_viewer().actor
    results: dict[int, CaseRow] = {}
    for instance_id, lock_version in chosen:
        try:
            check = engine.migrate_instance(
                instance_id, to_version=version, actor=actor, lock_version=lock_version
            )
            results[instance_id] = case_row(
                check, _("Moved to version %(v)s.", v=version), "migrated"
            )
        except EngineError as err:
            row = _failed_row(instance_id, version, err)
            if row is not None:
                results[instance_id] = row
    return _page(process_id, version, results=results)


def _failed_row(instance_id: int, version: int, err: EngineError) -> CaseRow | None:
    """The case's dry run now, with why it did not move (None: no such case any more)."""
    engine = get_engine()
    try:
        check = engine.check_migration(instance_id, version)
    except EngineError:
        return None
    if err.status == 409:
        text = _("Not moved: the case changed or was moved meanwhile; check it again.")
        return case_row(check, text, "conflict")
    return case_row(check, _("Not moved.") + " " + refusal_text(check), "refused")


def _chosen(values: list[str]) -> list[tuple[int, int]]:
    """`instance` values are "<instance id>:<lock version of the dry run>"."""
    chosen = []
    for value in values:
        instance, _sep, lock = value.partition(":")
        if instance.isdigit() and lock.isdigit():
            chosen.append((int(instance), int(lock)))
    return chosen


@bp.post("/instances/<int:instance_id>/move-back")
@roles_required(*MIGRATORS)
def move_back(instance_id: int):
    engine = get_engine()
    instance = engine.find_instance(instance_id)
    if instance is None:
        return deny(404, f"process instance {instance_id} not found")
    lock = request.form.get("lock_version", "")
    try:
        check = engine.move_back(
            instance_id,
            actor=current_viewer().actor,
            lock_version=int(lock) if lock.isdigit() else None,
        )
    except EngineError as err:
        if err.status == 404:
            return deny(404, err.message)
        flash(
            _("The case was not moved back: it changed meanwhile; check it again.")
            if err.status == 409
            else _("The case cannot move back to its previous version."),
            "error",
        )
        return redirect(_running_url(instance.process_id, instance.process_version.version)), 303
    flash(
        _(
            "Case %(case)s is back on version %(v)s.",
            case=check.business_key or instance_id,
            v=check.to_version,
        ),
        "success",
    )
    return redirect(_running_url(instance.process_id, check.from_version)), 303


def _running_url(process_id: str, version: int) -> str:
    return url_for("studio.running_cases", process_id=process_id, version=version)
