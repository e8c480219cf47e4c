"""Cases a client starts for its own organisation (issue 10, R-11): the instance is bound to the
organisation of the signed-in client from its start, so the client sees its first task (the
application) at once; `application.register` then confirms that binding instead of finding or
creating an organisation from what was typed."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import RuleViolation
from domain.models import Organisation
from domain.models_clients import CaseBinding

# Processes a client may start, each bound to the client's organisation. One running
# certification per organisation at a time (decision, see README "Client self-service").
ORGANISATION_BOUND_PROCESSES = frozenset({"certification"})
# Statuses of an application still in progress (domain/acceptance.py, contract.py, decision.py).
OPEN_APPLICATION_STATUSES = ("submitted", "accepted", "contracted")


def bind_case(
    session: Session,
    *,
    instance_id: int,
    organisation_id: int,
    process_id: str,
    started_by: str,
    now: datetime,
) -> CaseBinding:
    binding = CaseBinding(
        instance_id=instance_id,
        organisation_id=organisation_id,
        process_id=process_id,
        started_by=started_by,
        started_at=now,
    )
    session.add(binding)
    session.flush()
    return binding


def bound_organisation(session: Session, instance_id: int | None) -> Organisation | None:
    """The organisation the instance was started for by a client, if any."""
    if instance_id is None:
        return None
    return session.scalars(
        select(Organisation)
        .join(CaseBinding, CaseBinding.organisation_id == Organisation.id)
        .where(CaseBinding.instance_id == instance_id)
    ).first()


def confirm_binding(organisation: Organisation, uscc: str) -> None:
    """R-11: an application in a case started for an organisation is that organisation's: the
    code typed must be its code (never a second organisation)."""
    if organisation.uscc != uscc:
        raise RuleViolation(
            "R-11",
            f"统一社会信用代码须为本组织的代码 {organisation.uscc} / the unified social "
            f"credit code must be your organisation's, {organisation.uscc}",
        )


def prefill(organisation: Organisation) -> dict[str, str]:
    """What the application form can take from the organisation's record."""
    values = {
        "org_name": organisation.name,
        "uscc": organisation.uscc,
        "address": organisation.address,
        "contact_name": organisation.contact_name,
        "contact_phone": organisation.contact_phone,
        "contact_email": organisation.contact_email,
    }
    return {name: value for name, value in values.items() if value}
