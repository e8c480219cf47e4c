"""The bronze plaque showing the level (R-10.1 f 认证铜牌) and its state.

The certification department records each plaque issued after a certificate is issued (number,
level, date, sent to whom: mark_plaque.bpmn Task_IssuePlaque). The level printed is the
certificate's, never typed. The plaque's state is not edited by hand: it follows its certificate
(docs/decisions.md "The bronze plaque"), because R-10.1(e) stops all mark use when the certificate
is suspended, cancelled or withdrawn:

* certificate valid (or partly suspended: the other sites still certified) → in use;
* fully suspended → taken down until the certificate is restored (R-9.5.1, R-10.1 e);
* withdrawn or cancelled → to be returned to the certification body (R-10.1 e, R-9.5.2/3);
* superseded by a reissue at another level (R-9.3, R-8.10.3 downgrade) → to be returned, replaced
  by the plaque of the new level; a reissue at the same level (name, address) → the state of
  the certificate that replaced it.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.acting import Acting
from domain.certificates import get_certificate, reissued_as
from domain.errors import RuleViolation
from domain.models import Certificate
from domain.models_marks import MarkPlaque
from domain.values import iso_date, optional_text, required_text

RULE = "R-10.1f"

# state: (Chinese, English) — shown on the case page and in the portal.
PLAQUE_STATES: dict[str, tuple[str, str]] = {
    "in_use": ("可使用", "in use"),
    "taken_down": ("证书暂停，须撤下停用", "certificate suspended: take it down"),
    "to_return": ("证书已撤销或注销，须交回", "certificate withdrawn or cancelled: return it"),
    "replaced": (
        "星级已变更，须交回并换用新铜牌",
        "level changed: return it, a new plaque replaces it",
    ),
}


@dataclass(frozen=True)
class PlaqueView:
    plaque: MarkPlaque
    state: str

    @property
    def state_zh(self) -> str:
        return PLAQUE_STATES[self.state][0]

    @property
    def state_en(self) -> str:
        return PLAQUE_STATES[self.state][1]


@dataclass(frozen=True)
class PlaqueFacts:
    certificate: Certificate
    plaque_number: str
    issued_on: date
    recipient: str


def check_plaque(
    session: Session, certificate_id: Any, *, plaque_number: Any, issued_on: Any, recipient: Any
) -> PlaqueFacts:
    """R-10.1(f): a plaque is issued for a valid certificate, on or after its issue date, with a
    number not used before and a recipient (the form's check and the service task's rule)."""
    certificate = get_certificate(session, certificate_id)
    if certificate.status != "valid":
        raise RuleViolation(
            RULE,
            f"证书 {certificate.number} 状态为 {certificate.status}，不能发放认证铜牌 "
            "a plaque is issued for a valid certificate only",
        )
    number = required_text(plaque_number, "plaque_number", RULE, "铜牌编号 plaque number", 60)
    day = iso_date(issued_on, "issued_on", RULE, "发放日期 date issued")
    if day < certificate.issued_on:
        raise RuleViolation(
            RULE,
            f"发放日期不能早于证书颁发日期 {certificate.issued_on.isoformat()} "
            "the plaque cannot be issued before the certificate",
            field="issued_on",
        )
    taken = session.scalar(select(MarkPlaque.id).where(MarkPlaque.plaque_number == number))
    if taken is not None:
        raise RuleViolation(
            RULE, f"铜牌编号 {number} 已使用 plaque number already used", field="plaque_number"
        )
    who = required_text(recipient, "recipient", RULE, "接收人 recipient", 200)
    return PlaqueFacts(certificate, number, day, who)


def record_plaque(
    act: Acting,
    certificate_id: Any,
    *,
    plaque_number: Any,
    issued_on: Any,
    recipient: Any,
    note: Any = None,
) -> MarkPlaque:
    """R-10.1(f): the plaque issued for a valid certificate, showing the certificate's level."""
    facts = check_plaque(
        act.session,
        certificate_id,
        plaque_number=plaque_number,
        issued_on=issued_on,
        recipient=recipient,
    )
    row = MarkPlaque(
        certificate_id=facts.certificate.id,
        plaque_number=facts.plaque_number,
        star_level=facts.certificate.star_level,  # the level shown is the certificate's
        issued_on=facts.issued_on,
        recipient=facts.recipient,
        note=optional_text(note, "note") or None,
        recorded_by=act.actor,
        recorded_at=act.now,
    )
    act.session.add(row)
    act.session.flush()
    return row


def describe(session: Session, certificate_id: Any) -> dict[str, Any]:
    """What the person issuing the plaque needs to see (mark_plaque.bpmn Task_DescribePlaque)."""
    certificate = get_certificate(session, certificate_id)
    return {
        "certificate_id": certificate.id,
        "number": certificate.number,
        "star_level": certificate.star_level,
        "stars": "★" * certificate.star_level,
        "organisation_name": certificate.organisation_name,
        "organisation_address": certificate.organisation_address,
        "issued_on": certificate.issued_on.isoformat(),
    }


def plaque_state(session: Session, certificate: Certificate, level: int) -> str:
    """The state of a plaque of `level` issued for `certificate` (see the module's docstring)."""
    seen: set[int] = set()
    while certificate.status == "superseded" and certificate.id not in seen:
        seen.add(certificate.id)
        successor = reissued_as(session, certificate)
        if successor is None:  # replaced by the next cycle's certificate
            successor = session.scalars(
                select(Certificate)
                .where(Certificate.replaces_id == certificate.id)
                .order_by(Certificate.id.desc())
                .limit(1)
            ).first()
        if successor is None:
            return "to_return"
        if successor.star_level != level:
            return "replaced"
        certificate = successor
    if certificate.status in ("withdrawn", "cancelled"):
        return "to_return"
    if certificate.status == "suspended" and not certificate.suspended_sites:
        return "taken_down"
    return "in_use"


def plaques_of(session: Session, certificate_ids: list[int]) -> list[PlaqueView]:
    """The plaques issued for these certificates, newest first, each with its state."""
    if not certificate_ids:
        return []
    rows = session.scalars(
        select(MarkPlaque)
        .where(MarkPlaque.certificate_id.in_(certificate_ids))
        .order_by(MarkPlaque.issued_on.desc(), MarkPlaque.id.desc())
    ).all()
    return [PlaqueView(row, plaque_state(session, row.certificate, row.star_level)) for row in rows]
