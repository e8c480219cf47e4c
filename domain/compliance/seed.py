"""A dataset with known breaches of every compliance indicator (issue 13, "Must show"), all of
it rows, for the page and report tests (tests/quality, tests/browser) that need it in a second;
the demo (`certflow seed-compliance`) and the indicator tests drive the processes instead
(scenarios/compliance_dataset.py). Its cases the processes refuse to produce are shared with
refused_breaches.py; the rest — a late or missing surveillance, NCs and complaints answered late
or never — are written here as the rows such a case leaves behind. Every case is registered in
`Seeded.expected` with its verdict, so a test compares each indicator with exactly these.

All dates are fixed; measure with `today` from SEED_TODAY to EARLIEST_OPEN_LIMIT (the first day
a case still in time would fall due)."""

from datetime import date

from sqlalchemy.orm import Session

from domain.compliance.refused_breaches import (
    decided_by_a_team_member,
    in_time,
    lapsed_registration,
    new_builder,
    recertifications,
    restored_late,
)
from domain.compliance.seed_builder import Seeded, activity, event_id
from domain.models import Audit

SEED_TODAY = date(2026, 12, 1)
EARLIEST_OPEN_LIMIT = date(2026, 12, 19)  # complaint 4's last day: measure before it


def seed_compliance(session: Session) -> Seeded:
    """Nine organisations (甲 … 癸, no 丁) through their cycles, with complaints and
    nonconformities; the breaches of each indicator are listed in the comments (and in
    `Seeded.expected`). The cases the processes refuse to produce are the ones of
    refused_breaches.py; here everything is rows, to be fast."""
    b = new_builder(session)

    # 甲: everything in time; also suspended and restored within 6 months.
    cert, audit_a = in_time(b)
    b.change(cert, "suspended", "suspended", date(2025, 2, 1), published_on=date(2025, 2, 1))
    b.change(cert, "valid", "restored", date(2025, 5, 1), published_on=date(2025, 5, 1))
    b.seeded.expect("suspension_resolved", f"event:{event_id(session, cert, 'suspended')}", True)
    b.nonconformity(
        audit_a, "NC-01", date(2024, 2, 10), answered=date(2024, 2, 8), accepted=True, kept=True
    )
    # breach: answered two days after its deadline
    b.nonconformity(
        audit_a, "NC-02", date(2024, 2, 10), answered=date(2024, 2, 12), accepted=True, kept=False
    )

    # 乙: also breaches first surveillance late, second never done.
    org_b, programme = decided_by_a_team_member(b)
    b.surveil(org_b, programme, 1, date(2025, 3, 14), kept=False)
    b.surveil(org_b, programme, 2, None, kept=False)
    s1_b = session.get(Audit, activity(session, programme, 1).audit_id)
    # breach: answered, never accepted, deadline passed
    b.nonconformity(
        s1_b, "NC-01", date(2025, 5, 1), answered=date(2025, 4, 20), accepted=False, kept=False
    )

    audit_c = restored_late(b)  # 丙
    b.nonconformity(
        audit_c, "NC-01", date(2025, 6, 30), answered=date(2025, 6, 30), accepted=True, kept=True
    )

    # 戊: suspended, then withdrawn before its first surveillance fell due: none owed.
    org, programme, cert, _ = b.certify("E", "戊服务有限公司", date(2024, 2, 1))
    b.change(cert, "suspended", "suspended", date(2024, 8, 1), published_on=date(2024, 8, 1))
    b.change(
        cert,
        "withdrawn",
        "withdrawn",
        date(2024, 10, 1),
        published_on=date(2024, 10, 2),
        rule="R-9.5.2",
    )
    b.seeded.expect("suspension_resolved", f"event:{event_id(session, cert, 'suspended')}", True)

    lapsed_registration(b)  # 己

    # 庚: recent; 赵 after the renewal (valid); nothing due yet (not counted).
    org, programme, cert, audit_g = b.certify(
        "G", "庚服务有限公司", date(2026, 1, 15), team=("zhao",)
    )
    b.change(cert, "suspended", "suspended", date(2026, 10, 1), published_on=date(2026, 10, 1))
    b.nonconformity(audit_g, "NC-01", date(2027, 1, 1), answered=None, accepted=False, kept=None)

    recertifications(b)  # 辛, 壬, 癸

    # answered on day 29 (kept); breach answered on day 30; breach about the CB never
    # answered; the last one still in time (not counted).
    b.complaint(1, date(2026, 1, 5), date(2026, 2, 3), kept=True)
    b.complaint(2, date(2026, 1, 5), date(2026, 2, 4), organisation=org_b, kept=False)
    b.complaint(3, date(2026, 10, 1), None, kept=False)
    b.complaint(4, date(2026, 11, 20), None, kept=None)
    session.flush()
    return b.seeded
