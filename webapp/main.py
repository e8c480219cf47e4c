"""Landing page until the inbox (issue 4) exists."""

from flask import Blueprint, jsonify

from webapp import get_clock, get_engine

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    processes = [
        {"process_id": v.process_id, "version": v.version, "name": v.name}
        for v in get_engine().list_latest_versions()
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
