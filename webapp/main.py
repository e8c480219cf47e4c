"""Service information and the health check (the inbox at `/` is webapp.inbox)."""

from flask import Blueprint, jsonify

from webapp.runtime import get_clock, get_engine

bp = Blueprint("main", __name__)


@bp.get("/about.json")
def index():
    processes = [
        {"process_id": v.process_id, "version": v.version, "name": v.name}
        for v in get_engine().latest_processes()
    ]
    return jsonify(
        {
            "service": "certflow",
            "now": get_clock().now().isoformat(),
            "processes": processes,
            "api": "/api/v1/openapi.json",
        }
    )


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
