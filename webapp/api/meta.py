"""GET /api/v1/openapi.json: the document (webapp/api/document.py), public."""

from flask import Response, jsonify

from webapp.api import responses
from webapp.api.auth import public
from webapp.api.blueprint import bp
from webapp.api.document import document
from webapp.api.openapi import answers, api_spec


@bp.get("/openapi.json")
@public
@api_spec.validate(
    resp=answers(200, responses.OpenApiDocument, "The OpenAPI document.", ()),
    tags=["meta"],
    operation_id="getOpenApi",
    security={},
)
def get_openapi() -> Response:
    """This document."""
    return jsonify(document())
