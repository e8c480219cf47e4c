"""Certified clients in bulk, for data-volume work (issue 16: `certflow generate`).

The rows `application.register` and `certificate.issue` write for a case granted at its initial
audit (R-6.1, R-9.1, R-9.2, R-14) — organisation, sites, application, certificate, its `issued`
event and the `certified` announcement — written with set-based INSERTs for many clients at
once. Numbers come from the same counters as one by one (domain/numbering.py), reserved a block
at a time. Not written: the audit, its findings and the decision (the certificate's
`decision_id` stays empty), contracts, programmes and documents.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from certflow.bulk import insert_returning_ids, insert_rows
from domain.application import ISSUING_BODY
from domain.certificate_issue import RULES, STANDARD
from domain.certificates import NUMBER_PREFIX, announcement_title, mark_for
from domain.letter_templates import render_letter
from domain.models import (
    Announcement,
    Application,
    Certificate,
    CertificateEvent,
    Organisation,
    Site,
)
from domain.numbering import NumberCounter, next_number
from domain.programme_dates import certificate_expiry
from domain.uscc import uscc_check_char

CITIES = (
    ("福州市鼓楼区", "350102"),
    ("厦门市思明区", "350203"),
    ("北京市海淀区", "110108"),
    ("上海市浦东新区", "310115"),
    ("广州市天河区", "440106"),
    ("深圳市南山区", "440305"),
    ("杭州市西湖区", "330106"),
    ("南京市玄武区", "320102"),
    ("成都市武侯区", "510107"),
    ("武汉市洪山区", "420111"),
)
FIRST = "华中东南新博恒信安康瑞宏泰嘉鑫盛优达利通远航明德金丰联创"
SECOND = "美宇源科讯业达光正邦润诚祥兴鸿程和凯晟威立腾辉顺星"
TRADES = ("电器", "汽车销售服务", "家居", "通信设备", "物业服务", "电梯", "办公设备", "厨具")
HEAD_SITE = "总部服务中心"
SCOPE = "{trade}售后服务 after-sales service"
CLIENT_ANSWER_KEYS = ("org_name", "uscc", "address", "contact_name", "contact_phone")


@dataclass(frozen=True)
class CertifiedClient:
    """One generated client: `serial` makes its name, code and address; the instance is its
    (already written) finished certification."""

    serial: int
    application_number: str  # from application_numbers(), the instance's business key
    instance_id: int
    submitted_at: datetime
    decided_at: datetime
    issued_on: date
    star_level: int
    client: str
    reviewer: str
    decider: str


def client_identity(serial: int) -> dict[str, Any]:
    """Name, unified social credit code (valid check character), address and contact."""
    city, region = CITIES[serial % len(CITIES)]
    rest = serial // len(CITIES)
    first, second = FIRST[rest % len(FIRST)], SECOND[(rest // len(FIRST)) % len(SECOND)]
    trade = TRADES[(rest // (len(FIRST) * len(SECOND))) % len(TRADES)]
    first17 = f"91{region}{serial:09d}"
    return {
        "org_name": f"{city[:2]}{first}{second}{trade}有限公司",
        "uscc": first17 + uscc_check_char(first17),
        "address": f"{city}{serial % 900 + 1}号",
        "contact_name": "联系人",
        "contact_phone": f"0591-{serial % 100000000:08d}",
        "trade": trade,
    }


def _reserve(session: Session, column, prefix: str, year: int, count: int) -> list[str]:
    """`count` consecutive numbers of `prefix`-`year`: the first through next_number (the
    counter's lock, raised past existing numbers), the rest by moving the counter on."""
    first = next_number(session, column, prefix, year)
    serial = int(first.rsplit("-", 1)[1])
    session.execute(
        update(NumberCounter)
        .where(NumberCounter.prefix == prefix, NumberCounter.year == year)
        .values(last=serial + count - 1)
        .execution_options(synchronize_session=False)
    )
    return [f"{prefix}-{year}-{number:04d}" for number in range(serial, serial + count)]


def _numbers(session: Session, column, prefix: str, years: list[int]) -> list[str]:
    pending: dict[int, list[str]] = {}
    for year in sorted(set(years)):
        pending[year] = _reserve(session, column, prefix, year, years.count(year))
    return [pending[year].pop(0) for year in years]


def application_numbers(session: Session, submitted: list[datetime]) -> list[str]:
    """Application numbers for clients submitting at these times (R-6.1: APP-year-serial)."""
    return _numbers(session, Application.number, "APP", [moment.year for moment in submitted])


def _ids(session: Session, model, rows: list[dict]) -> list[int]:
    return insert_returning_ids(session, model.__table__, rows)


def insert_certified_clients(
    session: Session, clients: list[CertifiedClient], *, signatory: str, signatory_title: str
) -> list[int]:
    """Write the clients' rows in the caller's transaction; the certificate ids, in order."""
    identities = [client_identity(client.serial) for client in clients]
    organisation_ids = _ids(
        session,
        Organisation,
        [
            {
                "name": who["org_name"],
                "uscc": who["uscc"],
                "address": who["address"],
                "contact_name": who["contact_name"],
                "contact_phone": who["contact_phone"],
                "contact_email": "",
                "created_at": client.submitted_at,
            }
            for client, who in zip(clients, identities, strict=True)
        ],
    )
    site_rows = [
        {"organisation_id": org, "name": HEAD_SITE, "address": who["address"]}
        for org, who in zip(organisation_ids, identities, strict=True)
    ]
    site_ids = _ids(session, Site, [{**row, "is_fixed": True, "active": True} for row in site_rows])
    applications = [client.application_number for client in clients]
    application_ids = _ids(
        session,
        Application,
        [
            {
                "number": number,
                "organisation_id": org,
                "instance_id": client.instance_id,
                "kind": "initial",
                "requested_level": client.star_level,
                "scope": SCOPE.format(trade=who["trade"]),
                "shift_work": False,
                "headcount": 50 + client.serial % 200,
                "status": "certified",
                "submitted_by": client.client,
                "submitted_at": client.submitted_at,
                "review": _review(who),
                "man_days": Decimal("3.0"),
                "reviewed_by": client.reviewer,
                "reviewed_at": client.submitted_at,
                "not_accepted_reason": None,
            }
            for number, org, client, who in zip(
                applications, organisation_ids, clients, identities, strict=True
            )
        ],
    )
    numbers = _numbers(
        session, Certificate.number, NUMBER_PREFIX, [c.issued_on.year for c in clients]
    )
    certificates = [
        {
            "number": number,
            "organisation_id": org,
            "application_id": application,
            "decision_id": None,
            "organisation_name": who["org_name"],
            "organisation_address": who["address"],
            "sites": [{"id": site, "name": HEAD_SITE, "address": who["address"], "is_fixed": True}],
            "scope": SCOPE.format(trade=who["trade"]),
            "star_level": client.star_level,
            "standard": STANDARD,
            "rules": RULES,
            "issuing_body": ISSUING_BODY,
            "signatory": signatory,
            "signatory_title": signatory_title,
            "issued_on": client.issued_on,
            "original_issued_on": client.issued_on,
            "changed_on": None,
            "expires_on": certificate_expiry(client.issued_on),
            "status": "valid",
            "replaces_id": None,
            "mark": mark_for(client.star_level),
            "suspended_sites": [],
            "mark_use_allowed": True,
            "status_changed_on": client.issued_on,
        }
        for number, org, application, site, client, who in zip(
            numbers, organisation_ids, application_ids, site_ids, clients, identities, strict=True
        )
    ]
    certificate_ids = _ids(session, Certificate, certificates)
    insert_rows(
        session,
        CertificateEvent.__table__,
        [
            {
                "certificate_id": certificate_id,
                "event": "issued",
                "rule": "R-9.1",
                "reason": "认证决定 decision",
                "status_before": None,
                "status_after": "valid",
                "sites": [],
                "actor": client.decider,
                "at": client.decided_at,
                "effective_on": client.issued_on,
                "data": {
                    "decision_id": None,
                    "star_level": client.star_level,
                    "expires_on": row["expires_on"].isoformat(),
                    "replaces_number": None,
                },
            }
            for certificate_id, client, row in zip(
                certificate_ids, clients, certificates, strict=True
            )
        ],
    )
    insert_rows(
        session,
        Announcement.__table__,
        [
            _announcement(certificate_id, row, client)
            for certificate_id, client, row in zip(
                certificate_ids, clients, certificates, strict=True
            )
        ],
    )
    return certificate_ids


def _review(who: dict[str, Any]) -> dict[str, Any]:
    return {
        "information_sufficient": True,
        "differences_resolved": True,
        "scope_determined": True,
        "cb_able": True,
        "man_days": "3.0",
        "man_days_basis": "1 个固定场所 / 1 fixed site",
        "scope": SCOPE.format(trade=who["trade"]),
        "accepted": True,
        "not_accepted_reason": None,
    }


def _announcement(certificate_id: int, row: dict[str, Any], client: CertifiedClient) -> dict:
    """R-14: the `certified` announcement as certificate.issue publishes it."""
    certificate = SimpleNamespace(**row)
    body = render_letter("certified_announcement", certificate=certificate, replaces=None)
    return {
        "certificate_id": certificate_id,
        "kind": "certified",
        "organisation_name": row["organisation_name"],
        "certificate_number": row["number"],
        "title": announcement_title("certified", row["organisation_name"], row["number"]),
        "body": body.removesuffix("\n") + "\n",
        "published_on": client.issued_on,
        "published_at": client.decided_at,
    }
