"""R-7.1.2 审查方案的确定和任何后续调整: every change of the programme is a numbered revision (why,
who, when, what changed) — domain/programme_revisions.py, through the programme handler and the
domain functions, on the real database (no Flask request)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.errors import RuleViolation
from domain.models import AuditProgramme, ProgrammeActivity
from domain.models_programme import AuditProgrammeRevision
from domain.programme_revisions import record_revision, revise_programme, revisions_of
from tests.audit.test_handlers_programme import contracted, create, programme_params  # noqa: F401
from tests.helpers import handler_context


@pytest.fixture
def programme(contracted, clock):  # noqa: F811
    result = create(programme_params(contracted.id), clock)
    return db.session.get(AuditProgramme, result["id"])


def act(clock, actor="sam_scheduler"):
    return handler_context(db.session, clock.now(), actor=actor)


def activity(programme, kind):
    return next(a for a in programme.activities if a.kind == kind)


def test_the_programme_as_established_is_revision_one(programme, clock):
    [first] = revisions_of(db.session, programme.id)
    assert (first.number, first.reason_kind, first.changes) == (1, "established", [])
    assert (first.revised_by, first.revised_at) == ("sam_scheduler", clock.now())
    assert first.snapshot["fields"]["man_days"] == "3.0"
    assert [(a["kind"], a["planned_date"]) for a in first.snapshot["activities"]] == [
        ("document_review", "2026-01-20"),
        ("initial_audit", "2026-02-10"),
    ]


def test_a_revision_keeps_what_changed_why_who_and_when(programme, clock):
    clock.advance(timedelta(days=2))
    audit_activity = activity(programme, "initial_audit")
    revision = revise_programme(
        act(clock, "sue_scheduler"),
        programme.id,
        reason_kind="scope_complexity",
        reason="客户新增 2 个服务网点，增加审查人日",
        man_days="4.5",
        planned_dates={str(audit_activity.id): "2026-02-17"},
    )

    assert programme.man_days == Decimal("4.5")
    assert audit_activity.planned_date == date(2026, 2, 17)
    assert (revision.number, revision.reason_kind) == (2, "scope_complexity")
    assert revision.reason == "客户新增 2 个服务网点，增加审查人日"
    assert (revision.revised_by, revision.revised_at) == ("sue_scheduler", clock.now())
    assert revision.changes == [
        {"field": "man_days", "activity": None, "before": "3.0", "after": "4.5"},
        {
            "field": "planned_date",
            "activity": "initial_audit",
            "before": "2026-02-10",
            "after": "2026-02-17",
        },
    ]
    # The first revision is unchanged: every revision is kept.
    numbers = [
        (r.number, r.snapshot["fields"]["man_days"]) for r in revisions_of(db.session, programme.id)
    ]
    assert numbers == [(1, "3.0"), (2, "4.5")]


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        ({"reason_kind": "", "man_days": "4"}, "R-7.1.2", "reason_kind"),
        ({"reason_kind": "established", "man_days": "4"}, "R-7.1.2", "reason_kind"),
        ({"reason": "  ", "man_days": "4"}, "R-7.1.2", "reason"),
        ({"man_days": "0.2"}, "R-7.1.2", "man_days"),
        ({"man_days": "3.0"}, "R-7.1.2", "reason_kind"),  # nothing changed
        ({"review": "2026-02-12"}, "R-8.1", "planned_dates"),  # review after the audit
    ],
)
def test_refused_revisions(programme, clock, changes, rule, field):
    changes = dict(changes)  # the parameter is shared by the SQLite and PostgreSQL runs
    review = activity(programme, "document_review")
    params = {"reason_kind": "audit_results", "reason": "上次审查结果"}
    if "review" in changes:
        params["planned_dates"] = {str(review.id): changes.pop("review")}
    params.update(changes)
    with pytest.raises(RuleViolation) as err:
        revise_programme(act(clock), programme.id, **params)
    assert (err.value.rule, err.value.field) == (rule, field)


def test_a_planned_date_never_passes_the_activity_limit_nor_moves_a_done_activity(programme, clock):
    surveillance = ProgrammeActivity(
        programme_id=programme.id, kind="surveillance_1", due_date=date(2027, 3, 1)
    )
    done = activity(programme, "document_review")
    done.status = "completed"
    db.session.add(surveillance)
    db.session.flush()
    base = {"reason_kind": "service_quality", "reason": "服务质量稳定"}
    with pytest.raises(RuleViolation) as late:
        revise_programme(
            act(clock), programme.id, **base, planned_dates={str(surveillance.id): "2027-03-02"}
        )
    assert (late.value.rule, late.value.field) == ("R-7.1.3", f"planned_date_{surveillance.id}")
    with pytest.raises(RuleViolation) as moved:
        revise_programme(
            act(clock), programme.id, **base, planned_dates={str(done.id): "2026-01-21"}
        )
    assert moved.value.field == f"planned_date_{done.id}"
    # An approved extension is the limit instead.
    surveillance.extension_requested_to, surveillance.extension_approved = date(2027, 5, 1), True
    revision = revise_programme(
        act(clock), programme.id, **base, planned_dates={str(surveillance.id): "2027-04-20"}
    )
    assert revision.changes[-1]["after"] == "2027-04-20"


def test_an_activity_of_another_programme_is_refused(programme, clock, contracted):  # noqa: F811
    with pytest.raises(RuleViolation):
        revise_programme(
            act(clock),
            programme.id,
            reason_kind="other",
            reason="x",
            planned_dates={"999999": "2026-02-01"},
        )


def test_a_programme_without_history_gets_a_baseline_first(programme, clock):
    db.session.execute(
        AuditProgrammeRevision.__table__.delete().where(
            AuditProgrammeRevision.programme_id == programme.id
        )
    )
    revision = revise_programme(
        act(clock), programme.id, reason_kind="client_size", reason="员工增至 300 人", man_days="5"
    )
    baseline, second = revisions_of(db.session, programme.id)
    assert (baseline.number, baseline.reason_kind, baseline.changes) == (1, "baseline", [])
    assert baseline.snapshot["fields"]["man_days"] == "3.0"
    assert second is revision and revision.number == 2
    assert revision.changes == [
        {"field": "man_days", "activity": None, "before": "3.0", "after": "5.0"}
    ]


def test_the_process_records_a_revision_only_when_something_changed(programme, clock):
    same = record_revision(
        db.session, programme, reason_kind="surveillance", actor="system", now=clock.now()
    )
    assert same is None
    db.session.add(
        ProgrammeActivity(
            programme_id=programme.id, kind="surveillance_1", due_date=date(2027, 1, 1)
        )
    )
    added = record_revision(
        db.session, programme, reason_kind="surveillance", actor="system", now=clock.now()
    )
    assert added.number == 2
    assert added.changes == [
        {"field": "added", "activity": "surveillance_1", "before": None, "after": "2027-01-01"}
    ]
    count = db.session.scalars(
        select(AuditProgrammeRevision).where(AuditProgrammeRevision.programme_id == programme.id)
    ).all()
    assert len(count) == 2
