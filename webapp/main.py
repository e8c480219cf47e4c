"""Service information, the health check and the site icon (the inbox at `/` is webapp.inbox)."""

from flask import Blueprint, current_app, jsonify, send_from_directory

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


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every page whatever the markup says (issue 10)."""
    return send_from_directory(
        current_app.static_folder + "/img",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=7 * 24 * 3600,
    )
