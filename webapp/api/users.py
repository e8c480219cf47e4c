"""Users and roles through the API (issue 11 "People"): the administrators' user management of
webapp/admin.py — the same rules (`UserForm.validate`: username, roles from the catalogue, a
client user belongs to one organisation and holds no other role, no self lock-out) and the same
access-log events (`user_created`, `user_updated`; passwords never logged).

Only MANAGE_USERS (admin) — an allowlist: everyone else 403. `GET /roles` (the catalogue) is
for every user. A rule broken → 422 with the field and the rule; a username taken concurrently
→ 409 (the unique key decides).
"""

from typing import Any

from flask import Response, jsonify, request
from flask_babel import force_locale
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.db import db
from certflow.models import User
from certflow.permissions import Permission, may
from certflow.roles import ROLES
from engine.errors import ForbiddenError, NotFoundError
from webapp.admin import UserForm, password_errors
from webapp.api import people_models as pm
from webapp.api.auth import ApiError
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import body
from webapp.api.routes import checked_first
from webapp.api.serialize import timestamp, viewer
from webapp.auth import remote_addr, wall_clock
from webapp.models import AccessLog
from webapp.runtime import get_clock

ID = f"int(min=1, max={MAX_INT32})"
RULES = "a rule of user accounts is broken (field errors name it: roles, organisation, R-11)"


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(user.roles),
        "organisation_id": user.organisation_id,
        "active": bool(user.active),
        "created_at": timestamp(user.created_at),
    }


def _admin_only() -> str:
    who = viewer()
    if not may(who.roles, Permission.MANAGE_USERS):
        raise ForbiddenError("managing users needs the admin role")
    return who.username


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        db.session.rollback()
        raise ApiError(422, "the user breaks a rule of accounts", errors=errors)


def _log(event: str, user: User, by: str, changes: dict[str, list]) -> None:
    db.session.add(
        AccessLog(
            at=wall_clock(),
            username=by,
            event=event,
            method=request.method[:10],
            path=request.path[:500],
            status=200,
            detail=f"{event} {user.username} via the API: {', '.join(sorted(changes))}"[:2000],
            remote_addr=remote_addr(),
            data={"user_id": user.id, "username": user.username, "changes": changes},
        )
    )


@bp.get("/roles")
@api_spec.validate(
    resp=answers(200, pm.RoleList, "The role catalogue.", (401,)),
    tags=["people"],
    operation_id="listRoles",
)
def list_roles() -> Response:
    """The roles a user can hold (the catalogue of the rules' roles)."""
    return jsonify({"items": [vars(role) for role in ROLES]})


@bp.get("/users")
@checked_first(_admin_only)
@api_spec.validate(
    resp=answers(200, pm.UserList, "Every user, by username.", (401, 403)),
    tags=["people"],
    operation_id="listUsers",
)
def list_users() -> Response:
    """Every user account with its roles (admin)."""
    _admin_only()
    users = db.session.scalars(select(User).order_by(User.username)).all()
    return jsonify({"items": [user_json(u) for u in users]})


@bp.post("/users")
@checked_first(_admin_only)
@api_spec.validate(
    json=pm.CreateUser,
    resp=answers(201, pm.UserOut, "Created.", (401, 403, 409, 413), unprocessable=RULES),
    tags=["people"],
    operation_id="createUser",
)
def create_user_account() -> tuple[Response, int]:
    """Create a user with roles from the catalogue (admin)."""
    by = _admin_only()
    given: pm.CreateUser = body()
    form = UserForm(
        username=given.username.strip(),
        display_name=given.display_name.strip(),
        roles=set(given.roles),
        organisation_id=given.organisation_id,
    )
    with force_locale("en"):  # the API answers in English
        form.validate(by=by)
        problems = password_errors(given.password, given.password)
    if problems:
        form.errors["password"] = problems
    _refuse(form.errors)
    user = create_user(
        db.session,
        form.username,
        password=given.password,
        roles=form.roles,
        display_name=form.display_name,
        now=get_clock().now(),
    )
    user.organisation_id = form.organisation_id
    db.session.flush()
    _log("user_created", user, by, {"roles": [[], sorted(form.roles)]})
    db.session.commit()
    return jsonify(user_json(user)), 201


@bp.patch(f"/users/<{ID}:user_id>")
@checked_first(_admin_only)
@api_spec.validate(
    json=pm.UpdateUser,
    resp=answers(200, pm.UserOut, "Changed.", (401, 403, 404, 409, 413), unprocessable=RULES),
    tags=["people"],
    operation_id="updateUser",
    path_parameter_descriptions={"user_id": "User id."},
)
def update_user(user_id: int) -> Response:
    """Change a user's display name, roles, organisation or whether it is active (admin)."""
    by = _admin_only()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    given: pm.UpdateUser = body()
    before = UserForm.of(user)
    after = UserForm.of(user)
    sent = given.model_fields_set
    if "display_name" in sent:
        after.display_name = given.display_name.strip()
    if "roles" in sent:
        after.roles = set(given.roles)
    if "organisation_id" in sent:
        after.organisation_id = given.organisation_id
    if "active" in sent:
        after.active = given.active
    with force_locale("en"):
        after.validate(editing=user, by=by)
    _refuse(after.errors)
    changes = {
        name: [_plain(getattr(before, name)), _plain(getattr(after, name))]
        for name in ("display_name", "roles", "organisation_id", "active")
        if getattr(before, name) != getattr(after, name)
    }
    if changes:
        user.display_name = after.display_name
        user.roles = after.roles
        user.organisation_id = after.organisation_id
        user.active = after.active
        _log("user_updated", user, by, changes)
        db.session.commit()
    return jsonify(user_json(user))


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, set) else value
