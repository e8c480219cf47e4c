"""The part of the compliance dataset (issue 13, "Must show") that the processes refuse to
produce, as the rows an import of legacy records or a data edit leaves behind: a decision maker
from the audit team (R-8.8: the decision task refuses a team member), an auditor whose
registration lapsed on the audit days (R-7.2.2: the team appointment refuses a lapsed
registration), a suspension left beyond 6 months and status changes never or late announced
(R-9.5.1, R-14: the suspension process withdraws in time and announces every change the day it
happens), recertification decided late or never (R-8.11: not driven through the engine yet, it
takes three simulated years). The organisations' imported histories are otherwise complete and
in time, so that measured up to the end of the process-driven part they owe nothing more.

Everything the processes do produce — surveillance done or not by its last day, suspensions
restored or withdrawn, complaints answered late or never, NCs left past their deadline — is
driven through the deployed processes on the simulated clock (tests/compliance_dataset.py), which
adds this part. Each case is registered in `Seeded.expected` with its verdict."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.models import User
from domain.compliance.seed_builder import SeedBuilder, Seeded, event_id


def seed_refused_breaches(session: Session) -> Seeded:
    """The breaches the processes refuse to produce, as the rows a legacy import or a data edit
    leaves behind (the rest of the dataset is driven through the processes: tests/
    compliance_dataset.py). Eight organisations (甲 … 癸, no 丁/戊) whose imported histories are
    complete and in time except for the breaches listed in the comments (and in
    `Seeded.expected`); measured up to PROCESS_DATASET_END, they owe nothing more."""
    b = new_builder(session)
    in_time(b)
    org, programme = decided_by_a_team_member(b)
    b.surveil(org, programme, 1, date(2025, 2, 14), kept=True)
    b.surveil(org, programme, 2, date(2026, 1, 20), kept=True)
    restored_late(b)
    lapsed_registration(b)

    # 庚: 赵 after the renewal (valid); its second surveillance not due yet (not counted).
    org, programme, _, _ = b.certify("G", "庚服务有限公司", date(2026, 1, 15), team=("zhao",))
    b.surveil(org, programme, 1, date(2026, 12, 20), kept=True)

    recertifications(b)
    session.flush()
    return b.seeded


def new_builder(session: Session) -> SeedBuilder:
    """A builder with the four auditors of every compliance dataset; refused on a database that
    has them already (a second run)."""
    if session.scalars(select(User.id).where(User.username == "seed_wang")).first():
        raise ValueError("the compliance demo data is already there (user seed_wang exists)")
    b = SeedBuilder(session)
    b.auditor("wang", "王审查", expires=date(2030, 12, 31))
    b.auditor("li", "李审查", expires=date(2030, 12, 31))
    b.auditor("chen", "陈专家", expires=None, expert=True)  # no registration needed
    # 赵's registration lapsed on 2024-03-01 and was renewed on 2024-03-20 (R-7.2.2).
    b.auditor(
        "zhao",
        "赵审查",
        expires=date(2027, 3, 1),
        history=[
            (date(2021, 3, 2), None, date(2024, 3, 1)),
            (date(2024, 3, 20), date(2024, 3, 1), date(2027, 3, 1)),
        ],
    )
    return b


def in_time(b: SeedBuilder):
    """甲: everything in time; recertified in time (R-8.11: the recertification process is not
    driven through the engine yet, it takes three simulated years). Returns its certificate and
    initial audit."""
    org, programme, cert, audit = b.certify(
        "A", "甲家电服务有限公司", date(2024, 1, 10), team=("wang", "chen")
    )
    b.surveil(org, programme, 1, date(2024, 12, 19), kept=True)
    b.surveil(org, programme, 2, date(2025, 11, 10), kept=True)
    b.recertify(org, cert, date(2026, 10, 20), date(2026, 11, 25), kept=True)
    return cert, audit


def decided_by_a_team_member(b: SeedBuilder):
    """乙: breach (R-8.8) decided by 李, a member of its audit team (the decision task refuses a
    team member: only an edited record has one). Its surveillances are the caller's."""
    org, programme, _, _ = b.certify(
        "B", "乙电器维修有限公司", date(2024, 3, 1), team=("wang", "li"), by="seed_li"
    )
    return org, programme


def restored_late(b: SeedBuilder):
    """丙: second surveillance on an approved extension (kept); breach (R-9.5.1) restored after 7
    months and breach (R-14) its restoration announced 8 days late (the suspension process
    withdraws at 6 months and announces every change the day it happens). Returns its initial
    audit."""
    org, programme, cert, audit = b.certify("C", "丙售后服务有限公司", date(2024, 6, 1))
    b.surveil(org, programme, 1, date(2025, 5, 19), kept=True)
    b.surveil(org, programme, 2, date(2026, 8, 1), kept=True, extended_to=date(2026, 8, 10))
    b.change(cert, "suspended", "suspended", date(2025, 12, 1), published_on=date(2025, 12, 1))
    b.change(cert, "valid", "restored", date(2026, 7, 1), published_on=date(2026, 7, 9))
    b.seeded.expect("suspension_resolved", f"event:{event_id(b.session, cert, 'suspended')}", False)
    return audit


def lapsed_registration(b: SeedBuilder) -> None:
    """己: breach (R-7.2.2) initial audit by 赵 while the registration had lapsed (the team
    appointment refuses a lapsed registration); breaches (R-9.5.1, R-14) suspended, never
    resolved, never announced."""
    org, programme, cert, _ = b.certify(
        "F", "己电器服务有限公司", date(2024, 4, 1), team=("zhao",), valid=False
    )
    b.surveil(org, programme, 1, date(2025, 3, 20), kept=True)
    b.surveil(org, programme, 2, date(2026, 3, 1), kept=True)
    b.change(cert, "suspended", "suspended", date(2026, 4, 1))
    b.seeded.expect("suspension_resolved", f"event:{event_id(b.session, cert, 'suspended')}", False)


def recertifications(b: SeedBuilder) -> None:
    """辛: breach (R-8.11) recertification decided after the last valid day; 壬: breach (R-8.11)
    requested, never decided, certificate expired; 癸: declined (not counted, R-9.5.3b)."""
    org, programme, cert, _ = b.certify("H", "辛家电服务有限公司", date(2023, 6, 1))
    b.surveil(org, programme, 1, date(2024, 5, 10), kept=True)
    b.surveil(org, programme, 2, date(2025, 4, 10), kept=True)
    b.recertify(org, cert, date(2026, 3, 15), date(2026, 6, 20), kept=False)

    org, programme, cert, _ = b.certify("I", "壬维修服务有限公司", date(2023, 8, 1))
    b.surveil(org, programme, 1, date(2024, 7, 1), kept=True)
    b.surveil(org, programme, 2, date(2025, 6, 1), kept=True)
    b.recertify(org, cert, date(2026, 5, 10), None, kept=False)

    org, programme, cert, _ = b.certify("J", "癸服务有限公司", date(2023, 9, 1))
    b.surveil(org, programme, 1, date(2024, 8, 1), kept=True)
    b.surveil(org, programme, 2, date(2025, 7, 15), kept=True)
