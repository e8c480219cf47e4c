"""Demo data for `certflow init --demo`: HR records (R-7.2.2) for the demo users, so that a
demo audit team can be appointed, and the demo client's organisation, so that it can apply.
Nothing secret here; idempotent."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.accounts import DEMO_DISPLAY_NAMES
from certflow.models import User
from domain.models import Auditor, Organisation

FIELD = "after_sales_service"
REGISTRATION_YEARS = 2

# username → HR record (registration numbers are obviously fictitious)
DEMO_AUDITORS: dict[str, dict] = {
    "demo_team_leader": {
        "name": DEMO_DISPLAY_NAMES["team_leader"],
        "registration_number": "DEMO-CCAA-SC-0001",
        "level": "senior",
        "team_leader_qualified": True,
        "is_technical_expert": False,
    },
    "demo_auditor": {
        "name": DEMO_DISPLAY_NAMES["auditor"],
        "registration_number": "DEMO-CCAA-SC-0002",
        "level": "auditor",
        "team_leader_qualified": False,
        "is_technical_expert": False,
    },
    "demo_tech_expert": {
        "name": DEMO_DISPLAY_NAMES["tech_expert"],
        "registration_number": None,
        "level": None,
        "team_leader_qualified": False,
        "is_technical_expert": True,
    },
}


# The demo client's organisation (the code's check character is valid, GB 32100; fictitious).
DEMO_CLIENT = "demo_client"
DEMO_ORGANISATION: dict[str, str] = {
    "name": "福州示例家电服务有限公司",
    "uscc": "91350102MA2Y8K3Q72",
    "address": "福建省福州市鼓楼区示例路1号",
    "contact_phone": "0591-87000000",
    "contact_email": "service@example.com",
}


def ensure_demo_organisation(session: Session, now: datetime) -> Organisation | None:
    """Link the demo client (`demo_client`) to the demo organisation, creating it: a client
    account not linked to an organisation sees nothing and cannot apply (R-11), so without it the
    demo's client login was a dead end. None when the demo client has no login or is linked
    already (the link is kept); the organisation when it was linked now."""
    user = session.scalars(select(User).where(User.username == DEMO_CLIENT)).first()
    if user is None or user.organisation_id is not None:
        return None
    organisation = session.scalars(
        select(Organisation).where(Organisation.uscc == DEMO_ORGANISATION["uscc"])
    ).first()
    if organisation is None:
        organisation = Organisation(
            **DEMO_ORGANISATION, contact_name=user.display_name, created_at=now
        )
        session.add(organisation)
        session.flush()
    user.organisation_id = organisation.id
    session.flush()
    return organisation


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def ensure_demo_auditors(session: Session, now: datetime) -> list[str]:
    """Create the Auditor rows of the demo users made by `certflow.accounts.ensure_demo_users`
    (a leader-qualified senior auditor, an auditor, a technical expert); registrations are valid
    for 2 years from `now`. Users without a login yet, or with a record already, are skipped.
    Returns the usernames whose records were created."""
    created = []
    expires = _years_after(now.date(), REGISTRATION_YEARS)
    for username, record in DEMO_AUDITORS.items():
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            continue
        if session.scalars(select(Auditor.id).where(Auditor.user_id == user.id)).first():
            continue
        expert = record["is_technical_expert"]
        session.add(
            Auditor(
                user_id=user.id,
                registration_expires_on=None if expert else expires,
                fields=[FIELD],
                languages=["zh"],
                **record,
            )
        )
        created.append(username)
    session.flush()
    return created
