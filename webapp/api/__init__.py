"""JSON API v1: the programmatic face of certflow (bearer-token auth)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from webapp.api import attachments, routes  # noqa: E402,F401  (registers the routes on bp)
from webapp.api.idempotency import init_idempotency  # noqa: E402

init_idempotency(bp)  # after routes: its hook runs after the token authentication
