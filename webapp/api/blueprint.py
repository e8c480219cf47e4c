"""The API blueprint, apart from the package's __init__ so that the route modules registering on
it do not import the package that imports them (no import cycle)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
