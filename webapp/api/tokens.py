"""An integrator's own API tokens through the API (issue 11): obtain, list and revoke.

* `POST /tokens` — no bearer token: the account's username and password, a name and a lifetime
  (1–365 days, default 90) → 201 with the secret, shown this once (only its sha256 is stored,
  certflow.models.ApiToken). Throttled exactly as the web sign-in (webapp/auth.py: the same
  per-(account, address) and per-address counters, webapp/throttle.py): a wrong password counts
  as a failed sign-in, beyond the limit 429 with Retry-After. A wrong username, password or an
  inactive account all answer the same 401.
* `GET /tokens` — the caller's own tokens (the token's user's), without secrets.
* `DELETE /tokens/{token_id}` — revoke one of the caller's own tokens (another user's: 404, as
  if it did not exist); revoking the token in use is allowed and ends it at once.

Every issue, refusal and revocation is an access-log row (`api_token_issued`,
`api_token_refused`, `api_token_throttled`, `api_token_revoked`; never the secret or the
password). Token times are wall-clock, as every security record: the simulated business clock
never expires a token.
"""

from datetime import datetime, timedelta
from typing import Annotated, Any

from flask import Response, jsonify
from pydantic import BaseModel, BeforeValidator, Field
from spectree import Response as Answers
from sqlalchemy import select

from certflow.accounts import issue_api_token
from certflow.db import db
from certflow.models import ApiToken, User
from engine.errors import NotFoundError
from webapp.api import responses
from webapp.api.auth import ApiError, current_user, public
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32, RequestBody, Text, _integral_float_as_int
from webapp.api.openapi import ERRORS, api_spec
from webapp.api.parsing import body
from webapp.api.serialize import timestamp
from webapp.auth import _check_dummy, attempt_succeeded, log_access, take_attempt, wall_clock

CHALLENGE = 'Bearer realm="certflow"'
DEFAULT_DAYS = 90
MAX_DAYS = 365


# A whole number of days (JSON Schema counts 189.0 as an integer, so it is taken as 189).
Days = Annotated[
    int, Field(strict=True, ge=1, le=MAX_DAYS), BeforeValidator(_integral_float_as_int)
]


class CreateToken(RequestBody):
    username: Text(80)
    password: Text(200)
    name: Text(100) = Field(description="What the token is for, e.g. the integrating system.")
    expires_in_days: Days = Field(
        default=DEFAULT_DAYS,
        description=f"Lifetime in days (1–{MAX_DAYS}); the token is refused after it.",
    )


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None = Field(description="null: a token without expiry (CLI).")
    revoked_at: datetime | None
    active: bool = Field(description="Neither revoked nor expired.")


class NewToken(TokenOut):
    token: str = Field(description="The bearer token; shown only in this answer.")


class TokenList(BaseModel):
    items: list[TokenOut]


def token_json(token: ApiToken, now: datetime) -> dict[str, Any]:
    expired = token.expires_at is not None and token.expires_at <= now
    return {
        "id": token.id,
        "name": token.description,
        "created_at": timestamp(token.created_at),
        "expires_at": timestamp(token.expires_at),
        "revoked_at": timestamp(token.revoked_at),
        "active": token.revoked_at is None and not expired,
    }


def _answers(status: int, model: type, description: str, errors: tuple[int, ...], **extra):
    codes: dict[str, Any] = {f"HTTP_{status}": (model, description)}
    for code in errors:
        codes[f"HTTP_{code}"] = ERRORS[code]
    return Answers(**codes, **extra)


THROTTLED = (
    responses.Error,
    "Too many failed sign-ins for this account from this address (or from this address), as "
    "on the sign-in page; the Retry-After header gives the seconds to wait.",
)
REFUSED = (responses.Error, "Wrong username or password, or an inactive account.")


@bp.post("/tokens")
@public
@api_spec.validate(
    json=CreateToken,
    resp=_answers(
        201,
        NewToken,
        "Issued; the secret is shown once.",
        (413, 422),
        HTTP_401=REFUSED,
        HTTP_429=THROTTLED,
    ),
    tags=["tokens"],
    operation_id="createToken",
    security={},
)
def create_token() -> tuple[Response, int]:
    """Obtain a bearer token with the account's username and password (rate-limited as the
    sign-in)."""
    given: CreateToken = body()
    username = given.username.strip()
    retry_after = take_attempt(username)
    if retry_after is not None:
        log_access("api_token_throttled", username=username, status=429)
        raise ApiError(
            429,
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(retry_after)},
        )
    user = db.session.scalars(select(User).where(User.username == username)).first()
    ok = user.check_password(given.password) if user is not None else _check_dummy(given.password)
    if not ok or user is None or not user.active:
        log_access("api_token_refused", username=username, status=401)
        raise ApiError(401, "wrong username or password", headers={"WWW-Authenticate": CHALLENGE})
    attempt_succeeded(username)
    now = wall_clock()
    token, secret = issue_api_token(
        db.session,
        user,
        now,
        given.name.strip(),
        expires_at=now + timedelta(days=given.expires_in_days),
    )
    answer = {**token_json(token, now), "token": secret}
    db.session.commit()
    log_access(
        "api_token_issued",
        username=username,
        status=201,
        detail=f"token {token.id} '{token.description}' via the API",
        data={"token_id": token.id, "name": token.description, "expires_at": answer["expires_at"]},
    )
    return jsonify(answer), 201


@bp.get("/tokens")
@api_spec.validate(
    resp=_answers(200, TokenList, "The caller's tokens, newest first (no secrets).", (401,)),
    tags=["tokens"],
    operation_id="listTokens",
)
def list_tokens() -> Response:
    """The caller's own API tokens, without their secrets."""
    tokens = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user().id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    now = wall_clock()
    return jsonify({"items": [token_json(token, now) for token in tokens]})


@bp.delete(f"/tokens/<int(min=1, max={MAX_INT32}):token_id>")
@api_spec.validate(
    resp=_answers(200, TokenOut, "Revoked (or already revoked).", (401, 404)),
    tags=["tokens"],
    operation_id="revokeToken",
    path_parameter_descriptions={"token_id": "The token's id (GET /tokens)."},
)
def revoke_token(token_id: int) -> Response:
    """Revoke one of the caller's own tokens; it is refused from now on."""
    user = current_user()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFoundError(f"token {token_id} not found")
    now = wall_clock()
    if token.revoked_at is None:
        token.revoked_at = now
        answer = token_json(token, now)
        db.session.commit()
        log_access(
            "api_token_revoked",
            username=user.username,
            status=200,
            detail=f"token {token_id} '{answer['name']}' revoked via the API",
            data={"token_id": token_id},
        )
    else:
        answer = token_json(token, now)
    return jsonify(answer)
