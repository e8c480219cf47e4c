"""The OpenAPI 3.1 document of the JSON API v1, generated from its code by spectree.

Each route declares its request models (webapp/api/models.py), its answers (`answers`, with the
response models of webapp/api/responses.py), tags and operationId with `api_spec.validate`, and
its summary and description in its docstring; spectree validates requests with the same models
and generates paths and schemas from them; webapp/api/document.py adds what the code does not
state per route and serves the whole document.
"""

from typing import Any

from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from domain.attachments import ALLOWED_TYPES as ATTACHMENT_TYPES
from webapp.api import responses
from webapp.api.parsing import ApiPlugin

UPLOAD_TYPES = sorted(ATTACHMENT_TYPES)

DESCRIPTION = """\
The programmatic interface of certflow: start process instances, work on human tasks, send
messages to waiting instances, retry incidents and (with the simulated clock) move time.

**Authentication.** Every operation except `GET /openapi.json`, `POST /tokens` and the public
complaint intake and status needs an API token: `Authorization: Bearer <token>`. A user obtains
tokens with `POST /tokens` (username, password, a name and a lifetime; the secret is shown once;
throttled as the sign-in page), lists them with `GET /tokens` and revokes one with
`DELETE /tokens/{token_id}`; operators can also issue one with `certflow token USER`.
Without a valid token the answer is `401` with `WWW-Authenticate: Bearer`. What a user may see and
do follows the roles of the token's user.

**CSRF.** The API authenticates every request by its bearer token alone and never by a cookie or
session, so a browser cannot be tricked into sending authenticated requests: CSRF protection does
not apply to it and no CSRF token is expected.

**Errors.** Every error is JSON: `{"error": "<kind>", "message": "..."}`; `422` adds
`"errors": {field: [messages]}` (malformed JSON, a body of the wrong shape, or task data that
fails the task form's JSON Schema). A missing field reads `"required"`. No string may contain a NUL
character. An empty query parameter (`role=`) counts as absent.

**Time.** Timestamps are ISO 8601 in UTC with an explicit offset (`+00:00`). "Now" is the
application clock, which may be simulated.
"""
TAGS = (
    "processes",
    "instances",
    "tasks",
    "incidents",
    "messages",
    "attachments",
    "certificates",
    "nonconformities",
    "indicator-sets",
    "audits",
    "fees",
    "complaints",
    "people",
    "tokens",
    "clock",
    "meta",
)

api_spec = SpecTree(
    backend=ApiPlugin,
    mode="strict",  # only the routes declared with api_spec.validate
    annotations=False,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    validation_error_model=responses.ValidationError,
    title="certflow API",
    version="1.0.0",
    description=DESCRIPTION,
    security_schemes=[
        SecurityScheme(
            name="bearerAuth",
            data=SecuritySchemeData(
                type="http", scheme="bearer", description="A certflow API token."
            ),
        )
    ],
    security={"bearerAuth": []},
)

# -- answers ------------------------------------------------------------------------------------
ERRORS: dict[int, tuple[type, str]] = {
    400: (responses.Error, "The engine refused the request."),
    401: (responses.Error, "No bearer token, or an invalid or revoked one."),
    403: (responses.Error, "The user lacks the role this needs."),
    404: (responses.Error, "No such object, or the user may not see it."),
    409: (
        responses.Error,
        "The object is in the wrong state or was changed concurrently; reload and retry.",
    ),
    413: (responses.Error, "The request body is larger than the server accepts."),
    422: (
        responses.ValidationError,
        "Malformed JSON, or a body or parameter of the wrong shape or type (NUL characters "
        "included).",
    ),
}


def answers(
    status: int,
    model: type | None,
    description: str,
    errors: tuple[int, ...],
    *,
    unprocessable: str | None = None,
) -> Response:
    """The documented answers of an operation: its success, its errors (ERRORS) and, with
    `unprocessable`, a 422 that names the reason the models cannot express."""
    codes: dict[str, Any] = {f"HTTP_{status}": (model, description)}
    for code in errors:
        codes[f"HTTP_{code}"] = ERRORS[code]
    if unprocessable:
        codes["HTTP_422"] = (
            responses.ValidationError,
            "Malformed JSON or a body of the wrong shape or type (NUL characters included); "
            f"or {unprocessable}",
        )
    return Response(**codes)
