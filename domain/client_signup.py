"""Sign-up of a client organisation's users and the link requests (issue 10, R-6.1, R-11).

* The first user of an organisation signs up with the organisation's name and unified social
  credit code (checked with its check character, domain/uscc.py): the organisation and an active
  client user linked to it are created together.
* A sign-up whose code already belongs to an organisation is NEVER linked automatically (R-11:
  nobody reads a client's case by knowing its code): it creates a client user without an
  organisation (it sees nothing of any organisation) and a pending `LinkRequest`, which a user
  of the market role approves (the user is linked) or refuses (the requester is told why).

Errors are field codes (`{"field": ["code", …]}`) that the web page words in the user's
language; nothing is written when there is one.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from certflow.accounts import create_user
from certflow.models import User
from domain.models import Organisation
from domain.models_clients import LinkRequest
from domain.uscc import uscc_error

CLIENT_ROLE = "client"
MAX_LENGTHS = {
    "org_name": 300,
    "uscc": 18,
    "contact_name": 100,
    "email": 200,
    "phone": 50,
    "username": 80,
    "password": 200,
    "reason": 1000,
}
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,18}[0-9]$")
# Password rule: at least 10 characters with letters and digits, not the username.
PASSWORD_MIN_LENGTH = 10
FIELDS = ("org_name", "uscc", "contact_name", "email", "phone", "username", "password", "password2")


@dataclass(frozen=True)
class SignupForm:
    org_name: str
    uscc: str
    contact_name: str
    email: str
    phone: str
    username: str
    password: str
    password2: str


@dataclass(frozen=True)
class SignupResult:
    user: User
    organisation: Organisation
    link_request: LinkRequest | None  # set when the organisation already existed


def password_problem(password: str, username: str) -> str | None:
    """The code of the password rule `password` breaks, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return "password_short"
    if len(password) > MAX_LENGTHS["password"]:
        return "too_long"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        return "password_weak"
    if username and username.lower() in password.lower():
        return "password_username"
    return None


def validate_signup(session: Session, form: SignupForm) -> dict[str, list[str]]:
    """Field error codes of a sign-up (empty when it may be registered)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, code: str) -> None:
        errors.setdefault(field, []).append(code)

    for field in ("org_name", "uscc", "contact_name", "username", "password"):
        if not getattr(form, field).strip():
            add(field, "required")
    for field, limit in MAX_LENGTHS.items():
        value = getattr(form, field, "")
        if field != "password" and len(value) > limit:
            add(field, "too_long")
    if form.uscc.strip() and "uscc" not in errors and uscc_error(form.uscc.strip()):
        add("uscc", "uscc_invalid")
    if not form.email.strip() and not form.phone.strip():
        add("email", "contact_required")
    if form.email.strip() and not EMAIL.match(form.email.strip()):
        add("email", "email_invalid")
    if form.phone.strip() and not PHONE.match(form.phone.strip()):
        add("phone", "phone_invalid")
    username = form.username.strip()
    if username and not USERNAME.match(username):
        add("username", "username_invalid")
    elif username and username_taken(session, username):
        add("username", "username_taken")
    if form.password:
        problem = password_problem(form.password, username)
        if problem:
            add("password", problem)
    if form.password != form.password2:
        add("password2", "password_mismatch")
    return errors


def username_taken(session: Session, username: str) -> bool:
    found = session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower()).limit(1)
    )
    return found is not None


def register_signup(session: Session, form: SignupForm, now: datetime) -> SignupResult:
    """Create the client user and either its new organisation or a pending link request
    (flushes, does not commit). Call `validate_signup` first."""
    uscc = form.uscc.strip()
    email, phone = form.email.strip(), form.phone.strip()
    user = create_user(
        session,
        form.username.strip(),
        password=form.password,
        roles={CLIENT_ROLE},
        display_name=form.contact_name.strip(),
        now=now,
    )
    organisation = session.scalars(select(Organisation).where(Organisation.uscc == uscc)).first()
    if organisation is None:
        organisation = Organisation(
            name=form.org_name.strip(),
            uscc=uscc,
            address="",  # given with the application
            contact_name=form.contact_name.strip(),
            contact_phone=phone,
            contact_email=email,
            created_at=now,
        )
        session.add(organisation)
        session.flush()
        user.organisation_id = organisation.id
        session.flush()
        return SignupResult(user, organisation, None)
    # an existing organisation is never joined without the market's approval.
    request = LinkRequest(
        user_id=user.id,
        organisation_id=organisation.id,
        stated_name=form.org_name.strip(),
        contact_name=form.contact_name.strip(),
        contact_phone=phone,
        contact_email=email,
        status="pending",
        requested_at=now,
        reason="",
    )
    session.add(request)
    session.flush()
    return SignupResult(user, organisation, request)


class LinkDecisionError(Exception):
    """The request was decided already (or does not exist): one decision wins (409)."""


def decide_link_request(
    session: Session,
    request_id: int,
    *,
    approve: bool,
    decided_by: str,
    reason: str,
    now: datetime,
) -> LinkRequest:
    """Approve (link the user to the organisation) or refuse a pending request (flushes). The
    status changes only from pending, in one conditional UPDATE: of two concurrent decisions one
    wins and the other gets LinkDecisionError (on SQLite and PostgreSQL alike)."""
    status = "approved" if approve else "refused"
    changed = session.execute(
        update(LinkRequest)
        .where(LinkRequest.id == request_id, LinkRequest.status == "pending")
        .values(
            status=status,
            decided_by=decided_by,
            decided_at=now,
            reason=reason.strip()[: MAX_LENGTHS["reason"]],
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise LinkDecisionError(f"link request {request_id} is not pending")
    request = session.get(LinkRequest, request_id)
    assert request is not None
    session.refresh(request)
    if approve:
        user = session.get(User, request.user_id)
        if user is None or user.organisation_id not in (None, request.organisation_id):
            raise LinkDecisionError(f"the user of link request {request_id} has another link")
        user.organisation_id = request.organisation_id
    session.flush()
    return request


def pending_requests(session: Session) -> list[LinkRequest]:
    return list(
        session.scalars(
            select(LinkRequest).where(LinkRequest.status == "pending").order_by(LinkRequest.id)
        )
    )


def latest_request_of(session: Session, user_id: int) -> LinkRequest | None:
    return session.scalars(select(LinkRequest).where(LinkRequest.user_id == user_id)).first()
