"""R-7.1.2 through the real diagrams: the programme built at Task_BuildProgramme is revision 1;
the certification decision starts the cycle (R-7.1.1) and adds the surveillance and
recertification activities (R-7.1.3) — kept as revision 2 with what was added; the surveillance
process setting the first surveillance's limit is revision 3; the scheduler's later revision
follows as revision 4 (domain/programme_revisions.py)."""

from sqlalchemy import select

from certflow.db import db
from domain.models import AuditProgramme, Certificate
from domain.programme_revisions import revise_programme, revisions_of
from tests.certification_case import one_nc, through_onsite
from tests.helpers import handler_context


def test_the_programme_keeps_a_revision_for_each_change_of_the_case(case, clock):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)

    programme = db.session.scalars(select(AuditProgramme)).one()
    certificate = db.session.scalars(select(Certificate)).one()
    established, cycle, scheduled = revisions_of(db.session, programme.id)
    assert (established.number, established.reason_kind) == (1, "established")
    assert established.revised_by == case.people.scheduler.username
    assert [a["kind"] for a in established.snapshot["activities"]] == [
        "document_review",
        "initial_audit",
    ]
    assert (cycle.number, cycle.reason_kind) == (2, "cycle_set")
    assert cycle.revised_by == case.people.decider.username
    changed = {(c["activity"], c["field"]): c["after"] for c in cycle.changes}
    assert changed[(None, "cycle_start")] == certificate.issued_on.isoformat()
    assert changed[(None, "cycle_end")] == certificate.expires_on.isoformat()
    assert {kind for kind, field in changed if field == "added"} == {
        "surveillance_1",
        "surveillance_2",
        "recertification",
    }

    # The surveillance process (started by the certificate) sets surveillance 1's limits.
    assert (scheduled.number, scheduled.reason_kind) == (3, "surveillance")
    surveillance_1 = next(a for a in programme.activities if a.kind == "surveillance_1")
    assert scheduled.changes == [
        {
            "field": "hard_limit_date",
            "activity": "surveillance_1",
            "before": None,
            "after": surveillance_1.hard_limit_date.isoformat(),
        }
    ]

    earlier = surveillance_1.due_date.replace(day=1)
    act = handler_context(db.session, clock.now(), actor=case.people.scheduler.username)
    third = revise_programme(
        act,
        programme.id,
        reason_kind="audit_results",
        reason="初次审查有 1 项不符合，第一次监督审查提前",
        planned_dates={str(surveillance_1.id): earlier.isoformat()},
    )
    assert third.number == 4
    assert third.changes == [
        {
            "field": "planned_date",
            "activity": "surveillance_1",
            "before": None,
            "after": earlier.isoformat(),
        }
    ]
