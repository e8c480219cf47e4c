"""Client organisations through the API (issue 11, the integrator's path): an administrator
creates a client organisation so that its first client user can be created with POST /users
(a client user belongs to one organisation, R-11) — what the web sign-up does for a client
itself (domain/client_signup.py), here for an integrator onboarding a client.

Only MANAGE_USERS (admin), an allowlist. The unified social credit code is checked with its
check character (domain/uscc.py); a code that already has an organisation is 409 (never a second
organisation for one code, and never a link to the existing one: R-11). The address and contact
details are completed by the client's application (R-6.1)."""

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel, Field
from sqlalchemy import select

from certflow.db import db
from domain.models import Organisation
from domain.uscc import uscc_error
from webapp.api.auth import ApiError
from webapp.api.blueprint import bp
from webapp.api.models import RequestBody, Text, optional
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import body
from webapp.api.routes import checked_first
from webapp.api.users import _admin_only
from webapp.runtime import get_clock

RULES = "the unified social credit code is not valid (field errors: uscc)"


class CreateOrganisation(RequestBody):
    name: Text(300) = Field(description="The organisation's registered name.")
    uscc: Text(18) = Field(
        description="Unified social credit code (18 characters with its check character)."
    )
    contact_name: Text(100) = optional(description="The contact person (default: none yet).")


class OrganisationOut(BaseModel):
    id: int = Field(description="Give it as organisation_id to POST /users (role client).")
    name: str
    uscc: str
    created_at: str


def organisation_json(organisation: Organisation) -> dict[str, Any]:
    return {
        "id": organisation.id,
        "name": organisation.name,
        "uscc": organisation.uscc,
        "created_at": organisation.created_at.isoformat(),
    }


@bp.post("/organisations")
@checked_first(_admin_only)
@api_spec.validate(
    json=CreateOrganisation,
    resp=answers(201, OrganisationOut, "Created.", (401, 403, 409, 413), unprocessable=RULES),
    tags=["people"],
    operation_id="createOrganisation",
)
def create_organisation() -> tuple[Response, int]:
    """Create a client organisation (admin); its users are then created with POST /users."""
    _admin_only()
    given: CreateOrganisation = body()
    uscc = given.uscc.strip()
    if problem := uscc_error(uscc):
        raise ApiError(422, RULES, errors={"uscc": [problem]})
    taken = db.session.scalars(select(Organisation.id).where(Organisation.uscc == uscc)).first()
    if taken is not None:
        raise ApiError(409, "an organisation with this unified social credit code exists")
    organisation = Organisation(
        name=given.name.strip(),
        uscc=uscc,
        address="",  # given with the application
        contact_name=(given.contact_name or "").strip(),
        created_at=get_clock().now(),
    )
    db.session.add(organisation)
    db.session.commit()  # a concurrent twin loses on the unique code: 409 (webapp/conflicts.py)
    return jsonify(organisation_json(organisation)), 201
