"""Demo data for `certflow init --demo`: HR records (R-7.2.2) for the demo users, so that a
demo audit team can be appointed. Nothing secret here; idempotent."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.accounts import DEMO_DISPLAY_NAMES
from certflow.models import User
from domain.models import Auditor

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
