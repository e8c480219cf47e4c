"""JSON API v1: the programmatic face of certflow (bearer-token auth)."""

from webapp.api import (  # noqa: F401  (registers the routes on bp)
    attachments,
    audit_sites,
    auditors,
    certificates,
    complaints,
    event_log,
    fees,
    indicator_sets,
    instance_list,
    meta,
    nonconformities,
    organisations,
    programmes,
    routes,
    tokens,
    users,
)
from webapp.api.blueprint import bp
from webapp.api.idempotency import init_idempotency

init_idempotency(bp)  # after routes: its hook runs after the token authentication

__all__ = ["bp"]
