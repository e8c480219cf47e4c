"""Users, demo accounts and API tokens."""

import secrets
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from certflow.models import ApiToken, User
from certflow.roles import ROLE_IDS, ROLES


def create_user(
    session: Session,
    username: str,
    *,
    password: str,
    roles: set[str] | frozenset[str],
    display_name: str,
    now: datetime,
) -> User:
    unknown = set(roles) - ROLE_IDS
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    user = User(username=username, display_name=display_name, created_at=now)
    user.roles = roles
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


# The demo users' names (issue 10): a person's name is one name, shown in headers, lists and
# documents — never "role + English + (demo)". The auditors' HR records (domain/demo.py) carry
# the same names.
DEMO_DISPLAY_NAMES: dict[str, str] = {
    "client": "赵敏",
    "market": "孙丽",
    "scheduler": "周平",
    "hr": "吴芳",
    "team_leader": "张组长",
    "auditor": "李审查",
    "tech_expert": "王专家",
    "mystery_shopper": "郑明",
    "audit_dept": "冯涛",
    "technical_dept": "陈静",
    "complaints": "褚燕",
    "process_owner": "卫东",
    "quality_manager": "蒋华",
    "assessor": "韩冰",
    "admin": "沈磊",
}


def ensure_demo_users(session: Session, now: datetime, logins_file: Path) -> list[tuple[str, str]]:
    """One demo user per role (`demo_<role>`), with random passwords written to `logins_file`
    (0600, under instance/): nothing secret is kept in the repository."""
    created = []
    for role in ROLES:
        username = f"demo_{role.id}"
        if session.scalars(select(User).where(User.username == username)).first():
            continue
        password = secrets.token_urlsafe(9)
        create_user(
            session,
            username,
            password=password,
            roles={role.id},
            display_name=DEMO_DISPLAY_NAMES[role.id],
            now=now,
        )
        created.append((username, password))
    if created:
        logins_file.parent.mkdir(parents=True, exist_ok=True)
        with logins_file.open("a") as fh:
            for username, password in created:
                fh.write(f"{username} {password}\n")
        logins_file.chmod(0o600)
    return created


def issue_token(
    session: Session,
    user: User,
    now: datetime,
    description: str = "",
    *,
    expires_at: datetime | None = None,
) -> str:
    return issue_api_token(session, user, now, description, expires_at=expires_at)[1]


def issue_api_token(
    session: Session,
    user: User,
    now: datetime,
    description: str = "",
    *,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token of `user`: the row (only the secret's hash is stored) and the secret, which
    is shown once."""
    secret = ApiToken.new_secret()
    token = ApiToken(
        user=user,
        token_hash=ApiToken.hash(secret),
        created_at=now,
        description=description,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


@cache
def _token_with_user_query() -> Select:
    """The token with its user: one round trip per API request, and a select built once, on
    first use (issue 16; not at import: a loader option configures every mapper)."""
    return (
        select(ApiToken)
        .where(ApiToken.token_hash == bindparam("token_hash"))
        .options(joinedload(ApiToken.user))
    )


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user of a token that is neither revoked nor expired (wall clock)."""
    token = session.scalars(_token_with_user_query(), {"token_hash": ApiToken.hash(secret)}).first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        return None
    return token.user
