"""The JSON API is described by its code (issue 14): the document comes from the models that
validate the requests, and who may act is decided before the models judge the input.

Runs on SQLite and PostgreSQL (the `api` fixture of tests/api/test_api.py).
"""

from tests.api.test_api import DOC
from tests.api.test_api import api as api  # noqa: F401  (the fixture: users, tokens, review_flow)
from webapp.api import models
from webapp.api.openapi import api_spec


def _documented_operations(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = rule.rule.removeprefix(models.API_PREFIX)
        for part in rule.arguments:
            path = path.replace(path[path.index("<") : path.index(">") + 1], f"{{{part}}}", 1)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            yield path, method.lower(), app.view_functions[rule.endpoint]


def test_each_json_body_is_documented_by_the_model_that_validates_it(api):
    checked = 0
    for path, method, view in _documented_operations(api.app):
        declared = api_spec.get_function_metadata(view)
        assert declared is not None, f"{method} {path} is not declared with api_spec.validate"
        operation = DOC["paths"][path][method]
        if declared.json is None:
            assert "application/json" not in operation.get("requestBody", {}).get("content", {})
            continue
        model = models.body_model(declared.json)
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{model.__name__}", (method, path)
        schema = DOC["components"]["schemas"][model.__name__]
        assert set(schema["properties"]) == set(model.model_fields), model.__name__
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        assert set(schema.get("required", [])) == required, model.__name__
        checked += 1
    # start, complete, reassign, retry, message, clock; complaint registration and public intake;
    # people: create and update a user, register, evaluate and renew an auditor; an organisation;
    # an API token obtained with a password
    assert checked == 15


def test_query_parameters_are_the_fields_of_the_query_model(api):
    parameters = {p["name"]: p for p in DOC["paths"]["/tasks"]["get"]["parameters"]}
    assert set(parameters) == set(models.TaskQuery.model_fields)
    assert parameters["limit"]["schema"]["maximum"] == models.MAX_INT32
    assert parameters["limit"]["schema"]["default"] == models.DEFAULT_PAGE


def test_who_may_act_is_decided_before_the_body_is_judged(api):
    """A user without the role gets 403 for any body, as before the models validated it."""
    invalid = {"no_such_field": "\u0000"}
    assert api.post("carl", "/messages", invalid).status_code == 403
    assert api.post("mia", "/clock", invalid).status_code == 403
    assert api.post("mia", "/incidents/1/retry", invalid).status_code == 403
    assert api.post("ada", "/clock", invalid).status_code == 422
    assert api.post("mia", "/messages", invalid).status_code == 422
