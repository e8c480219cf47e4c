"""The OpenAPI document and the API's behaviour agree (issue 9, item 13).

Each test pins one place where they used to drift; tests/api/test_api_schemathesis.py checks the
whole document against the running app. Runs on SQLite and PostgreSQL (the `api` fixture).
"""

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.api.test_api import DOC, assert_schema
from tests.api.test_api import api as api  # noqa: F401  (the fixture: users, tokens, review_flow)
from webapp.api import models


def doc_schema(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for `schema` with the document's components (so its `$ref`s resolve)."""
    return Draft202012Validator({**schema, "components": DOC["components"]})


def operation(path: str, method: str) -> dict[str, Any]:
    return DOC["paths"][path][method]


def response_doc(path: str, method: str, status: str) -> dict[str, Any]:
    response = operation(path, method)["responses"][status]
    if "$ref" in response:
        response = DOC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def query_parameter(name: str) -> dict[str, Any]:
    [parameter] = [p for p in operation("/tasks", "get")["parameters"] if p["name"] == name]
    return parameter


def multipart(fields: dict[str, str], filename: str, data: bytes, part_type: str | None):
    """A multipart body built by hand, so the file part carries exactly the headers given."""
    boundary = "certflow-boundary"
    lines = []
    for name, value in fields.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    head = [f"--{boundary}", f'Content-Disposition: form-data; name="file"; filename="{filename}"']
    if part_type:
        head.append(f"Content-Type: {part_type}")
    body = ("\r\n".join(lines + head + ["", ""])).encode() + data
    body += f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(api, user: str, filename: str, data: bytes, part_type: str | None):
    body, content_type = multipart({"kind": "legal_status"}, filename, data, part_type)
    return api.client.post(
        "/api/v1/attachments",
        data=body,
        headers={"Authorization": f"Bearer {api.tokens[user]}", "Content-Type": content_type},
    )


# -- query parameters -----------------------------------------------------------------------------
def test_an_empty_query_parameter_counts_as_absent(api):
    api.start()
    everything = api.tasks("ada")["total"]
    assert everything == 1
    for name in ("role", "state", "business_key", "mine", "instance", "limit", "offset"):
        assert query_parameter(name)["allowEmptyValue"] is True, name
        response = api.get("ada", "/tasks", **{name: ""})
        assert response.status_code == 200, (name, response.json)
        assert response.json["total"] == everything, name
        assert response.json["limit"] == 50 and response.json["offset"] == 0, name


def test_task_list_parameters_take_exactly_the_documented_values(api):
    for name, value in (
        ("mine", "yes"),
        ("mine", " 1"),
        ("mine", "TRUE"),
        ("role", "wizard"),
        ("instance", "+1"),
        ("instance", " 1"),
        ("instance", "\u0661"),  # an Arabic-Indic one, which int() would take
        ("offset", str(2**40)),
        ("offset", "2.5"),
    ):
        response = api.get("ada", "/tasks", **{name: value})
        assert response.status_code == 422, (name, value)
        assert name in response.json["errors"], (name, value)
    assert not doc_schema(query_parameter("mine")["schema"]).is_valid("yes")
    assert not doc_schema(query_parameter("role")["schema"]).is_valid("wizard")
    assert not doc_schema(query_parameter("offset")["schema"]).is_valid(2**40)
    for value in ("1", "0", "true", "false"):
        assert api.get("ada", "/tasks", mine=value).status_code == 200, value
    # 2.0 is an integer to JSON Schema, so the document allows it: the server takes it too.
    assert doc_schema(query_parameter("offset")["schema"]).is_valid(2.0)
    response = api.get("ada", "/tasks", offset="2.0")
    assert response.status_code == 200 and response.json["offset"] == 2
    # A large page size is documented as valid and capped, not refused.
    assert doc_schema(query_parameter("limit")["schema"]).is_valid(500)
    response = api.get("ada", "/tasks", limit="500")
    assert response.status_code == 200
    assert response.json["limit"] == models.MAX_PAGE


# -- request bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema", "path", "body"),
    [
        ("StartInstance", "/instances", {"process_id": "review\u0000flow"}),
        ("StartInstance", "/instances", {"process_id": "review_flow", "data": {"n": "\u0000"}}),
        ("StartInstance", "/instances", {"process_id": "review_flow", "data": {"\u0000": 1}}),
        ("StartInstance", "/instances", {"process_id": "p", "data": {"a": [{"b": "x\u0000"}]}}),
        ("SendMessage", "/messages", {"name": "m\u0000", "correlation": {"business_key": "A"}}),
        ("SendMessage", "/messages", {"name": "m", "correlation": {"business_key": "\u0000"}}),
        ("ChangeClock", "/clock", {"advance": "P1D\u0000"}),
    ],
)
def test_nul_characters_are_refused_as_the_document_says(api, schema, path, body):
    assert not doc_schema(DOC["components"]["schemas"][schema]).is_valid(body)
    response = api.post("ada", path, body)
    assert response.status_code == 422
    assert_schema("ValidationError", response.json)


def test_the_nul_rule_leaves_ordinary_data_valid():
    body = {"process_id": "review_flow", "data": {"a": [1, 2.5, None, True, {"b": "多 行\n"}]}}
    assert doc_schema(DOC["components"]["schemas"]["StartInstance"]).is_valid(body)
    assert not doc_schema(query_parameter("business_key")["schema"]).is_valid("a\u0000b")


def test_an_integral_correlation_instance_id_is_an_integer(api):
    """JSON Schema (and the document) count 1.0 as an integer; it used to be a bare 400."""
    instance = api.start()
    review = api.open_task(instance["id"])
    assert api.complete("mia", review["id"], {"accepted": False, "man_days": 1}).status_code == 200
    message = {"name": "documents_resubmitted", "payload": {"files": 3}}
    body = {**message, "correlation": {"instance_id": float(instance["id"])}}
    assert doc_schema(DOC["components"]["schemas"]["SendMessage"]).is_valid(body)
    response = api.post("mia", "/messages", body)
    assert response.status_code == 202, response.json
    assert response.json == {"delivered_to": instance["id"], "queued_id": None}
    response = api.post("mia", "/messages", {**message, "correlation": {"instance_id": 0}})
    assert response.status_code == 422
    assert "correlation/instance_id" in response.json["errors"]


def test_semantic_refusals_are_documented(api):
    task = api.open_task(api.start()["id"])
    path = "/tasks/{task_id}"
    response = api.complete("mia", task["id"], {"accepted": "perhaps"})
    assert response.status_code == 422
    assert_schema("ValidationError", response.json)
    assert "form_schema" in response_doc(f"{path}/complete", "post", "422")["description"]
    response = api.post("ada", f"/tasks/{task['id']}/reassign", {"assignee": "nobody"})
    assert response.status_code == 422
    assert_schema("ValidationError", response.json)
    assert "no active user" in response_doc(f"{path}/reassign", "post", "422")["description"]
    response = api.post("ada", "/clock", {"advance": "P99999Y"})
    assert response.status_code == 422
    assert "9999" in response_doc("/clock", "post", "422")["description"]


def test_every_body_may_be_refused_as_too_large():
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            if method != "parameters" and "requestBody" in op:
                assert "413" in op["responses"], f"{method} {path}"


# -- attachments ----------------------------------------------------------------------------------
def test_an_upload_part_without_a_content_type_is_typed_by_its_filename(api):
    response = upload(api, "mia", "licence.pdf", b"%PDF-1.4 licence", None)
    assert response.status_code == 201, response.json
    assert response.json["content_type"] == "application/pdf"
    response = upload(api, "mia", "licence.pdf", b"%PDF-1.4", "application/octet-stream")
    assert response.status_code == 201, response.json
    assert response.json["content_type"] == "application/pdf"
    response = upload(api, "mia", "tool.exe", b"MZ", None)
    assert response.status_code == 422
    assert "file" in response.json["errors"]
    body = operation("/attachments", "post")["requestBody"]["content"]["multipart/form-data"]
    documented = {t.strip() for t in body["encoding"]["file"]["contentType"].split(",")}
    assert "application/pdf" in documented and "application/x-msdownload" not in documented


def test_a_download_is_documented_with_the_type_it_is_sent_with(api):
    for filename, part_type, data in (
        ("licence.pdf", "application/pdf", b"%PDF-1.4 licence"),
        ("notes.txt", "text/plain", "售后服务".encode()),
    ):
        uploaded = upload(api, "mia", filename, data, part_type)
        assert uploaded.status_code == 201, uploaded.json
        response = api.get("mia", f"/attachments/{uploaded.json['id']}")
        assert response.status_code == 200
        assert response.data == data
        documented = response_doc("/attachments/{attachment_id}", "get", "200")["content"]
        assert response.mimetype == part_type
        assert response.mimetype in documented
