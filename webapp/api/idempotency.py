"""`Idempotency-Key` for the creating requests of the JSON API (issue 9).

A client that lost the answer to `POST /instances`, `POST /attachments`, `POST /messages`,
`POST /complaints` or `POST /complaints/public` can send the request again with the same
`Idempotency-Key` header and gets the first answer instead of a second instance, file, message
or complaint:

* The header is optional; on other routes it is ignored. A key is 1–255 visible ASCII
  characters (else 422). Keys belong to the token's user: other users' keys never collide; on
  the public complaint intake (no token) to the caller's address.
* The request is identified by its method, path and body (JSON compared after parsing, so
  formatting does not matter; multipart by its fields and each file's name, type and sha256).
* First use: a row (user, key) is committed BEFORE the work, marking it in progress; the answer
  (status, body, Location, Content-Type) is stored after it. Answers that may be worth retrying
  — 409, 429 and 5xx — are not kept: the key is released and may be used again.
* Same key, same request: the stored answer, with `Idempotent-Replayed: true`; nothing is done.
* Same key, another request: 422 naming the header. Same key while the first request still runs
  (concurrent requests): 409 with Retry-After; exactly one of them does the work.
* Keys expire KEY_LIFETIME (24 h, wall clock) after first use; then the key is new again.
* Should the process die between the work and storing its answer, the key stays "in progress"
  (409) until it expires: a retry then never does the work twice.
"""

import hashlib
import json
import re
from datetime import timedelta

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from certflow.db import db
from webapp.api.auth import ApiError, current_user
from webapp.auth import remote_addr, wall_clock
from webapp.models import IdempotencyKey

HEADER = "Idempotency-Key"
ENDPOINTS = frozenset(
    {
        "api.start_instance",
        "api.upload_attachment",
        "api.send_message",
        # Complaint intakes (issue 11): a lost answer must not register the complaint twice.
        "api.register_complaint",
        "api.submit_public_complaint",
    }
)
PUBLIC_ENDPOINTS = frozenset({"api.submit_public_complaint"})  # no token: keyed by address
KEY_LIFETIME = timedelta(hours=24)
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
NOT_KEPT = frozenset({409, 429})  # plus every 5xx: worth retrying with the same key
KEPT_HEADERS = ("Content-Type", "Location")


def request_fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    if request.mimetype.startswith("multipart/"):
        # Any part name a client sends (even an empty or odd one) keys the fingerprint as text.
        fields = sorted((str(name), str(value)) for name, value in request.form.items(multi=True))
        for name, value in fields:
            digest.update(json.dumps(["field", name, value]).encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: str(item[0])):
            content = hashlib.file_digest(upload.stream, "sha256")  # type: ignore[arg-type]
            upload.stream.seek(0)  # the view reads the file afterwards
            meta = ["file", name, upload.filename, upload.mimetype, content.hexdigest()]
            digest.update(json.dumps(meta).encode())
        return digest.hexdigest()
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:  # not JSON: the bytes as they are (the view answers 422 anyway)
        canonical = raw
    digest.update(canonical)
    return digest.hexdigest()


def _key_owner() -> str:
    """Whose key space: the token's user; for the public intake (no token) the caller's
    address — a name no username can take (usernames never hold '~' or a space)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return f"~public {remote_addr()}"[:80]
    return current_user().username


def _header_error(message: str) -> ApiError:
    return ApiError(422, message, errors={HEADER: [message]})


def _replay(row: IdempotencyKey) -> Response:
    response = current_app.response_class(
        row.response_body or "", status=row.status, headers=dict(row.response_headers or {})
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response


def begin() -> Response | None:
    """`before_request` (after authentication): claim the key, or answer from it."""
    if request.method != "POST" or request.endpoint not in ENDPOINTS:
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise _header_error("must be 1–255 visible ASCII characters")
    username = _key_owner()
    fingerprint = request_fingerprint()
    now = wall_clock()
    session = db.session
    session.rollback()  # the claim is a transaction of its own, committed before the work
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    # A Core INSERT, not session.add: the identity map may still hold an expired row of the same
    # key (one session serving several requests), and the unique key must decide, not the ORM.
    claim = insert(IdempotencyKey).values(
        username=username,
        key=key,
        request_hash=fingerprint,
        method=request.method,
        path=request.path[:500],
        status=None,
        response_headers={},
        created_at=now,
        expires_at=now + KEY_LIFETIME,
    )
    try:
        session.execute(claim)
        session.commit()
    except IntegrityError:
        session.rollback()
        row = session.get(IdempotencyKey, (username, key), populate_existing=True)
        if row is None or row.status is None:
            raise ApiError(
                409,
                f"a request with this {HEADER} is still being processed; retry later",
                headers={"Retry-After": "1"},
            ) from None
        if row.request_hash != fingerprint:
            raise _header_error(
                f"this {HEADER} was already used for a different request "
                f"({row.method} {row.path}); use a new key for a new request"
            ) from None
        return _replay(row)
    g.idempotency_claim = (username, key)
    return None


def finish(response: Response) -> Response:
    """`after_request`: keep the answer under the claimed key, or release the key."""
    claim = g.pop("idempotency_claim", None)
    if claim is None:
        return response
    try:
        session = db.session
        session.rollback()  # write first, read nothing: SQLite then waits for its lock, never fails
        username, key = claim
        mine = (IdempotencyKey.username == username) & (IdempotencyKey.key == key)
        if response.status_code >= 500 or response.status_code in NOT_KEPT:
            session.execute(delete(IdempotencyKey).where(mine))
        else:
            headers = response.headers
            kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
            session.execute(
                update(IdempotencyKey)
                .where(mine)
                .values(
                    status=response.status_code,
                    response_body=response.get_data(as_text=True),
                    response_headers=kept,
                )
                .execution_options(synchronize_session=False)
            )
        session.commit()
    except SQLAlchemyError:
        # The work is done and committed; losing its stored answer must not turn the answer
        # into an error. The key stays "in progress" (409 for a retry) until it expires.
        db.session.rollback()
        current_app.logger.exception("Idempotency-Key: the answer could not be stored")
    return response


def init_idempotency(bp: Blueprint) -> None:
    """Register on the API blueprint after its authentication hook."""
    bp.before_request(begin)
    bp.after_request(finish)
