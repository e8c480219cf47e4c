"""User management for administrators (`/admin/users`): list and search, create, edit roles /
organisation / active / display name, reset a password.

* Only `admin` (webapp.auth.roles_required: others get 403, written to the access log).
* CSRF on every form (Flask-WTF, as everywhere).
* Every change is written to the **access log** (AccessLog, the security record kept with
  sign-ins and refusals; wall-clock time) in the same transaction as the change: events
  `user_created`, `user_updated`, `password_reset`, with `data = {"user_id", "username",
  "changes": {field: [before, after]}}`; passwords are never logged.
* A client user belongs to exactly one organisation (R-11) and holds no other role; staff users
  belong to no organisation.
* An administrator cannot take the admin role from, or deactivate, their own account (no
  lock-out). Changing a password or deactivating ends the user's other sessions (webapp.auth).
"""

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_user
from sqlalchemy import func, literal, or_, select

from certflow.accounts import create_user
from certflow.db import db
from certflow.models import User
from certflow.roles import ROLE_IDS, ROLES
from domain.models import Organisation
from webapp.access import CLIENT_ROLE
from webapp.auth import (
    WebUser,
    current_viewer,
    deny,
    remote_addr,
    roles_required,
    wall_clock,
)
from webapp.layout import nav_item
from webapp.models import AccessLog
from webapp.runtime import get_clock

bp = Blueprint("admin", __name__, url_prefix="/admin")
nav_item("admin.users", lazy_gettext("Users"), roles={"admin"}, order=90)

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,79}")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
PER_PAGE = 50
USER_EVENTS = ("user_created", "user_updated", "password_reset")
MAX_ID = 2**31


@dataclass
class UserForm:
    """The submitted (or current) values of the user form and the errors per field."""

    username: str = ""
    display_name: str = ""
    roles: set[str] = field(default_factory=set)
    organisation_id: int | None = None
    active: bool = True
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, user: User) -> "UserForm":
        return cls(
            username=user.username,
            display_name=user.display_name,
            roles=set(user.roles),
            organisation_id=user.organisation_id,
            active=bool(user.active),
        )

    @classmethod
    def parse(cls, form: Any, *, new: bool) -> "UserForm":
        organisation = form.get("organisation_id", "").strip()
        result = cls(
            username=form.get("username", "").strip()[:80] if new else "",
            display_name=form.get("display_name", "").strip(),
            roles={r for r in form.getlist("roles") if r in ROLE_IDS},
            organisation_id=int(organisation)
            if organisation.isdigit() and len(organisation) <= 9
            else None,
            active=form.get("active") == "1" if not new else True,
        )
        if organisation and result.organisation_id is None:
            result.error("organisation_id", _("Choose an organisation from the list."))
        return result

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def validate(self, *, editing: User | None = None, by: str | None = None) -> None:
        """The rules of an account; `by` is who changes it (default: the signed-in user; the
        JSON API passes its token's user, webapp/api/users.py)."""
        if editing is None:
            if not USERNAME.fullmatch(self.username):
                self.error(
                    "username",
                    _("2–80 letters, digits, '.', '_' or '-', starting with a letter or digit."),
                )
            elif db.session.scalars(
                select(User.id).where(func.lower(User.username) == self.username.lower())
            ).first():
                self.error("username", _("This username is taken."))
        if not self.display_name:
            self.error("display_name", _("This field is required."))
        elif len(self.display_name) > 200:
            self.error("display_name", _("Too long or too many entries."))
        if not self.roles:
            self.error("roles", _("Choose at least one role."))
        if CLIENT_ROLE in self.roles and len(self.roles) > 1:
            self.error("roles", _("The client role cannot be combined with other roles."))
        if CLIENT_ROLE in self.roles:
            if self.organisation_id is None:
                self.error("organisation_id", _("A client user belongs to an organisation."))
            elif db.session.get(Organisation, self.organisation_id) is None:
                self.error("organisation_id", _("Choose an organisation from the list."))
        elif self.organisation_id is not None:
            self.error(
                "organisation_id", _("Only client users belong to an organisation: leave it empty.")
            )
        if editing is not None and editing.username == (by or current_viewer().username):
            if "admin" not in self.roles:
                self.error("roles", _("You cannot take the admin role from yourself."))
            if not self.active:
                self.error("active", _("You cannot deactivate yourself."))


def password_errors(password: str, confirm: str) -> list[str]:
    if len(password) < MIN_PASSWORD:
        return [_("At least %(n)d characters.", n=MIN_PASSWORD)]
    if len(password) > MAX_PASSWORD or "\x00" in password:
        return [_("Too long or too many entries.")]
    if password != confirm:
        return [_("The two passwords differ.")]
    return []


def _log_change(event: str, user: User, detail: str, changes: dict | None = None) -> None:
    """An access-log row in the current transaction (committed together with the change)."""
    db.session.add(
        AccessLog(
            at=wall_clock(),
            username=current_viewer().username,
            event=event,
            method=request.method[:10],
            path=request.path[:500],
            status=302,
            detail=detail[:2000],
            remote_addr=remote_addr(),
            data={"user_id": user.id, "username": user.username, "changes": changes or {}},
        )
    )


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name).limit(2000)))


def _find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id) if 0 < user_id < MAX_ID else None


def _render_form(form: UserForm, *, user: User | None = None, status: int = 200, **extra):
    history = []
    if user is not None:
        rows = db.session.scalars(
            select(AccessLog)
            .where(AccessLog.event.in_(USER_EVENTS))
            .order_by(AccessLog.id.desc())
            .limit(2000)
        ).all()
        history = [r for r in rows if (r.data or {}).get("user_id") == user.id][:50]
    return (
        render_template(
            "admin/user_form.html",
            form=form,
            user=user,
            roles=ROLES,
            organisations=_organisations(),
            history=history,
            min_password=MIN_PASSWORD,
            password_errors=extra.get("password_errors", []),
        ),
        status,
    )


# -- views ----------------------------------------------------------------------------------------
@bp.get("/users")
@roles_required("admin")
def users():
    q = request.args.get("q", "").replace("\x00", "").strip()[:200]
    role = request.args.get("role", "")
    state = request.args.get("state", "")
    statement = select(User)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                User.username.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
    if role in ROLE_IDS:
        # roles_text is space-separated: match whole words only.
        word = role.replace("_", "\\_")
        statement = statement.where(
            literal(" ").concat(User.roles_text).concat(" ").like(f"% {word} %", escape="\\")
        )
    if state == "active":
        statement = statement.where(User.active.is_(True))
    elif state == "inactive":
        statement = statement.where(User.active.is_(False))
    rows = db.session.scalars(statement.order_by(User.username).limit(PER_PAGE + 1)).all()
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    return render_template(
        "admin/users.html",
        users=rows[:PER_PAGE],
        more=len(rows) > PER_PAGE,
        organisation_names=names,
        q=q,
        role=role if role in ROLE_IDS else "",
        state=state if state in ("active", "inactive") else "",
        roles=ROLES,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    if request.method == "GET":
        return _render_form(UserForm())
    form = UserForm.parse(request.form, new=True)
    form.validate()
    password = request.form.get("password", "")
    problems = password_errors(password, request.form.get("password_confirm", ""))
    if form.errors or problems:
        return _render_form(form, status=422, password_errors=problems)
    user = create_user(
        db.session,
        form.username,
        password=password,
        roles=form.roles,
        display_name=form.display_name,
        now=get_clock().now(),
    )
    user.organisation_id = form.organisation_id
    db.session.flush()
    _log_change(
        "user_created",
        user,
        f"created user {user.username} with roles {sorted(form.roles)}",
        {
            "roles": [[], sorted(form.roles)],
            "organisation_id": [None, form.organisation_id],
            "display_name": [None, form.display_name],
        },
    )
    db.session.commit()
    flash(_("User %(user)s created.", user=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    user = _find_user(user_id)
    if user is None:
        return deny(404, f"user {user_id} does not exist")
    if request.method == "GET":
        return _render_form(UserForm.of(user), user=user)
    form = UserForm.parse(request.form, new=False)
    form.username = user.username
    form.validate(editing=user)
    if form.errors:
        return _render_form(form, user=user, status=422)
    before = UserForm.of(user)
    changes: dict[str, list] = {}
    if before.display_name != form.display_name:
        changes["display_name"] = [before.display_name, form.display_name]
    if before.roles != form.roles:
        changes["roles"] = [sorted(before.roles), sorted(form.roles)]
    if before.organisation_id != form.organisation_id:
        changes["organisation_id"] = [before.organisation_id, form.organisation_id]
    if before.active != form.active:
        changes["active"] = [before.active, form.active]
    if not changes:
        flash(_("Nothing changed."), "info")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    user.display_name = form.display_name
    user.roles = form.roles
    user.organisation_id = form.organisation_id
    user.active = form.active
    _log_change("user_updated", user, f"changed {', '.join(sorted(changes))}", changes)
    db.session.commit()
    flash(_("Changes to %(user)s saved.", user=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@roles_required("admin")
def reset_password(user_id: int):
    user = _find_user(user_id)
    if user is None:
        return deny(404, f"user {user_id} does not exist")
    password = request.form.get("password", "")
    problems = password_errors(password, request.form.get("password_confirm", ""))
    if problems:
        return _render_form(UserForm.of(user), user=user, status=422, password_errors=problems)
    user.set_password(password)
    _log_change("password_reset", user, f"reset the password of {user.username}")
    db.session.commit()
    if user.username == current_viewer().username:
        # keep this session; the user's other sessions end (password fingerprint)
        login_user(WebUser(user, current_user.session_id))
    flash(_("The password of %(user)s was reset.", user=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))
