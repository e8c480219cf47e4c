"""The 3-year simulation of benchmarks/lifecycle_simulation.py at N=3 on the simulated clock
(issue 16): what happens to each certificate, not how fast — both routine surveillances
(R-8.10.1), the suspension of the one whose first surveillance is left unplanned and its
restoration (R-9.5.1(a), R-9.1: caught up after the restoration), the recertification prompt
3 months before expiry and a new certificate replacing each old one (R-8.11). The same run
split over two worker processes on PostgreSQL (tests/lifecycle_shards.py) does the same, each
timer fired once."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import Audit, Certificate, CertificateEvent, Nonconformity
from engine.models import EventLog, ProcessInstance
from engine.pruning import FINISHED, PRUNED_SERIALIZER
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_shards import ShardedSimulation
from tests.lifecycle_simulation import Figures, LifecycleSimulation, three_years_after


def events(certificate: Certificate) -> list[str]:
    query = select(CertificateEvent.event).where(CertificateEvent.certificate_id == certificate.id)
    return list(db.session.scalars(query.order_by(CertificateEvent.id)))


def test_three_certificates_live_three_years_through_the_engine(app, engine, clock, tmp_path):
    deploy_everything(engine)
    simulation = LifecycleSimulation(
        app, make_people(clock.now()), tmp_path / "uploads", suspend_every=3
    )
    three_years(simulation)
    assert_three_years_lived(simulation.figures, clock.now())


def test_two_worker_processes_share_the_clients_and_the_sweeps(app, engine, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the sharded run is PostgreSQL's")
    deploy_everything(engine)
    with ShardedSimulation(app, make_people(clock.now()), workers=2, suspend_every=3) as run:
        three_years(run)
        figures = run.take_figures()
    assert_three_years_lived(figures, clock.now())
    # Both workers answered tasks of their own clients (serials 1 and 3; serial 2).
    assert all(count > 0 for count in run.tasks_by_worker)
    # Both swept concurrently; each timer fired once: one firing of an instance at a time.
    rows = db.session.execute(
        select(EventLog.instance_id, EventLog.at, EventLog.data).where(
            EventLog.event_type == "timer_fired"
        )
    ).all()
    fired = Counter((row.instance_id, row.at, tuple(row.data["timers"])) for row in rows)
    assert max(fired.values()) == 1
    assert figures.timers_fired == len(rows)


def three_years(simulation) -> None:
    """Three clients certified, then run until the first certificate's last valid day."""
    simulation.apply(3)
    simulation.run_until(simulation.at(simulation.today() + timedelta(days=41)))
    db.session.rollback()
    first = list(db.session.scalars(select(Certificate).order_by(Certificate.id)))
    assert [c.status for c in first] == ["valid"] * 3
    expiry = first[0].expires_on
    assert expiry == three_years_after(first[0].issued_on) - timedelta(days=1)
    simulation.run_until(simulation.at(expiry))
    db.session.rollback()


def assert_three_years_lived(figures: Figures, now: datetime) -> None:
    expiry = db.session.scalars(select(Certificate.expires_on).order_by(Certificate.id)).first()
    certificates = list(db.session.scalars(select(Certificate).order_by(Certificate.id)))
    old, new = certificates[:3], certificates[3:]
    # each certificate recertified before it expired, the new one replacing it.
    assert [c.status for c in old] == ["superseded"] * 3
    assert [c.status for c in new] == ["valid"] * 3
    assert sorted(c.replaces_id for c in new) == [c.id for c in old]
    assert all(c.issued_on < expiry for c in new)
    # two surveillance audits per certificate, each maintaining it.
    audits = db.session.scalars(select(Audit).where(Audit.kind == "surveillance")).all()
    per_organisation = sorted(a.organisation_id for a in audits)
    assert per_organisation == sorted([c.organisation_id for c in old] * 2)
    assert [events(c).count("maintained") for c in old] == [2, 2, 2]
    # R-9.5.1(a): the third client's first surveillance was left unplanned: suspended at the
    # limit, restored after its correction, then surveilled twice; the others never.
    assert [events(c).count("suspended") for c in old] == [0, 0, 1]
    assert [events(c).count("restored") for c in old] == [0, 0, 1]
    processes = db.session.scalars(select(ProcessInstance.process_id)).all()
    assert processes.count("recertification") == 3
    assert processes.count("suspension") == 1
    assert processes.count("surveillance") == 6  # the old cycles and the new certificates'
    assert figures.by_element["surveillance/Task_OpeningMeeting"] == 6
    # every audit lost points, so each has the NCs of its deduction findings, all
    # answered and closed before the decision or the end of its surveillance.
    ncs = db.session.scalars(select(Nonconformity)).all()
    audited = db.session.scalars(select(Audit.id).where(Audit.score.isnot(None))).all()
    assert len(audited) == 12  # 3 initial, 6 surveillance, 3 recertification audits
    assert {nc.audit_id for nc in ncs} == set(audited)
    assert {nc.status for nc in ncs} == {"accepted"}
    assert all(nc.finding_id is not None for nc in ncs)
    assert figures.by_element["certification/Task_VerifyCorrections"] == 3
    assert figures.by_element["surveillance/Task_VerifyCorrections"] == 6
    assert figures.by_element["recertification/Task_VerifyCorrections"] == 3
    assert figures.by_element["recertification/Task_CertificationDecision"] == 3
    # Issue 16: the scheduler's pruning job compacted what finished 30 days or more before the
    # end (the certifications, the ended cycles, the suspension, the recertifications) and
    # nothing else; each of those keeps its diagram marks in ≤ 8 KB.
    finished = db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.status.in_(FINISHED))
    ).all()
    long_ago = [i for i in finished if i.ended_at <= now - timedelta(days=30)]
    assert len(long_ago) >= 10 and figures.instances_pruned == len(long_ago)
    assert {i.serializer_version == PRUNED_SERIALIZER for i in long_ago} == {True}
    assert all(len(i.state_json.encode()) <= 8 * 1024 for i in long_ago)
    running = db.session.scalars(select(ProcessInstance).where(ProcessInstance.status == "running"))
    assert PRUNED_SERIALIZER not in {i.serializer_version for i in running}
