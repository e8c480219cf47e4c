"""For every operation of the OpenAPI document, a client token gets only its own organisation's
data (R-11; issue 11, "Must show").

Two organisations, A and B, each with a case in progress (an instance waiting on the client's
own task), a certificate, a document and a file. carl is A's client. Every operation of
/api/v1/openapi.json is called as carl — the operations that take an id with B's id — and:

* an operation on B's object answers 404 (403 where the role is refused first) and changes
  nothing of B's;
* no answer carl gets contains anything that names B: B's organisation name, application and
  certificate numbers, task ids, instance ids.

OPERATIONS must list every operation of the document: a new route without an entry fails
`test_every_operation_of_the_document_is_checked`. That the markers can be found at all is
checked on the overseer's answers (`test_the_markers_are_visible_to_whoever_may_see_b`).
"""

import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from certflow.accounts import issue_api_token, issue_token
from certflow.db import db
from certflow.models import User
from domain.attachments import store_attachment
from domain.documents import create_document
from domain.indicators import load_default_indicator_sets
from domain.models import Application, Nonconformity, Organisation
from tests.certificate_factory import issued_certificate
from tests.complaints.test_web_complaints import COMPLAINT_BPMN
from tests.factories import make_audit
from tests.helpers import OWNER
from tests.web_support import Web, web_fixture  # noqa: F401
from webapp.api.document import document

B_NAME = "乙公司 Beta Ltd"


@dataclass
class Side:
    """One organisation's objects the operations point at."""

    instance: int
    client_task: str
    certificate: str
    file: int
    nc: int
    audit: int
    markers: list[str]  # strings that name this organisation's data
    indicator_set: int = 0  # shared reference data (no organisation's)
    complaint: str = ""  # the reference of the client's appeal
    token: int = 0  # a spare API token of the side's client (not the one the test uses)
    org: int = 0  # the organisation's id


def side_of(web: Web, key: str) -> Side:
    instance = web.start(f"APP-{key}", org=key)
    client_task = web.to_contract(instance)  # the client's own open task
    with web.app.app_context():
        organisation = db.session.get(Organisation, web.organisations[key])
        application = db.session.scalars(
            select(Application).where(Application.number == f"APP-{key}")
        ).one()
        certificate = issued_certificate(organisation=organisation)
        create_document(
            db.session,
            kind="audit_report",
            title=f"审查报告 Audit report {key}",
            lines=["# 审查报告"],
            organisation_id=organisation.id,
            application_id=certificate.application_id,
            created_by="ada",
            now=web.now(),
        )
        attachment = store_attachment(
            db.session,
            web.storage,
            filename=f"licence-{key}.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 licence",
            kind="legal_status",
            uploaded_by="cora" if key == "B" else "carl",
            now=web.now(),
            organisation_id=organisation.id,
        )
        audit = make_audit(db.session, web.now(), organisation, application)
        nc = Nonconformity(
            audit_id=audit.id,
            number="NC-1",
            item_code="5.1.1",
            description=f"不符合 {key} nonconformity of {key}-side",
        )
        db.session.add(nc)
        db.session.commit()
        markers = [
            nc.description,
            organisation.name,
            f"APP-{key}",
            certificate.number,
            client_task,
            f'"instance_id": {instance},',  # exact: ids of other kinds may share the number
            f'"instance_id": {instance}}}',
            f'/instances/{instance}"',
        ]
        return Side(
            instance,
            client_task,
            certificate.number,
            attachment.id,
            nc.id,
            audit.id,
            markers,
            org=organisation.id,
        )


@dataclass
class World:
    web: Web
    a: Side
    b: Side
    tokens: dict[str, str]

    def call(self, username: str, method: str, url: str, body: Any = None):
        client = self.web.app.test_client()
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        if method == "POST /attachments":
            return client.post(
                "/api/v1/attachments",
                data={"file": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf", "application/pdf"), **body},
                headers=headers,
                content_type="multipart/form-data",
            )
        return client.open(f"/api/v1{url}", method=method.split()[0], json=body, headers=headers)


@pytest.fixture
def world(web) -> World:
    a, b = side_of(web, "A"), side_of(web, "B")
    with web.app.app_context():
        [indicators] = load_default_indicator_sets(db.session, web.now())
        a.indicator_set = b.indicator_set = indicators.id
        web.engine.deploy([COMPLAINT_BPMN], actor=OWNER, comment="complaints")
        users = db.session.scalars(select(User)).all()
        tokens = {user.username: issue_token(db.session, user, web.now()) for user in users}
        for side, client in ((a, "carl"), (b, "cora")):
            user = next(u for u in users if u.username == client)
            spare, _ = issue_api_token(db.session, user, web.now(), "spare")
            side.token = spare.id
        db.session.commit()
    world = World(web, a, b, tokens)
    for side, client in ((a, "carl"), (b, "cora")):
        appeal = world.call(client, "POST", "/complaints", APPEAL)
        assert appeal.status_code == 201, appeal.json
        side.complaint = appeal.json["reference"]
    return world


APPEAL = {
    "kind": "appeal",
    "complainant_name": "申诉人 appellant",
    "complainant_contact": "appeal@example.cn",
    "subject": "对决定申诉 appeal against a decision",
    "description": "请复核 please review",
}
# operation: (path parameters from B's side, body, statuses a client of A may get)
OPERATIONS: dict[str, tuple[dict[str, str], Any, set[int]]] = {
    "GET /openapi.json": ({}, None, {200}),
    "GET /processes": ({}, None, {200}),
    "GET /clock": ({}, None, {200}),
    "POST /clock": ({}, {"advance": "P1D"}, {403}),
    "GET /tasks": ({}, None, {200}),
    "GET /tasks/{task_id}": ({"task_id": "client_task"}, None, {404}),
    "POST /tasks/{task_id}/claim": ({"task_id": "client_task"}, None, {404}),
    "POST /tasks/{task_id}/unclaim": ({"task_id": "client_task"}, None, {404}),
    "POST /tasks/{task_id}/complete": ({"task_id": "client_task"}, {"data": {}}, {404}),
    "POST /tasks/{task_id}/reassign": ({"task_id": "client_task"}, {"assignee": "carl"}, {404}),
    "POST /instances": ({}, {"process_id": "review_flow"}, {403}),
    "GET /instances/{instance_id}": ({"instance_id": "instance"}, None, {404}),
    "GET /instances": ({}, None, {200}),
    "GET /instances/{instance_id}/variables": ({"instance_id": "instance"}, None, {404}),
    "POST /incidents/{incident_id}/retry": ({"incident_id": "instance"}, {}, {403}),
    "POST /messages": (
        {},
        {"name": "documents_resubmitted", "correlation": {"business_key": "APP-B"}},
        {403},
    ),
    "POST /attachments": ({}, {"kind": "legal_status"}, {201}),
    "GET /attachments/{attachment_id}": ({"attachment_id": "file"}, None, {404}),
    "GET /certificates": ({}, None, {200}),
    "GET /certificates/{number}": ({"number": "certificate"}, None, {404}),
    "GET /certificates/{number}/history": ({"number": "certificate"}, None, {404}),
    "GET /certificates/{number}/documents": ({"number": "certificate"}, None, {404}),
    "GET /certificates/{number}/instances": ({"number": "certificate"}, None, {404}),
    "GET /nonconformities": ({}, None, {200}),
    "GET /nonconformities/{nc_id}": ({"nc_id": "nc"}, None, {404}),
    "GET /audits/{audit_id}/sites": ({"audit_id": "audit"}, None, {404}),
    # a programme's revisions — staff only, a client refused by role
    "GET /programmes/{programme_id}/revisions": ({"programme_id": "audit"}, None, {403}),
    # R-9.5.1e: an organisation's invoices — its client and staff who see its case only
    "GET /organisations/{organisation_id}/invoices": ({"organisation_id": "org"}, None, {404}),
    "POST /complaints": ({}, APPEAL, {201}),
    # Public intake and the public status lookup (the reference is the key): no names or texts.
    "POST /complaints/public": ({}, APPEAL, {201}),
    "GET /complaints/{reference}/status": ({"reference": "complaint"}, None, {200}),
    "GET /indicator-sets": ({}, None, {200}),
    # The event log for process mining (issue 13): quality_manager and admin only.
    "GET /event-log.xes": ({}, None, {403}),
    "GET /event-log.csv": ({}, None, {403}),
    "GET /indicator-sets/{set_id}": ({"set_id": "indicator_set"}, None, {200}),
    # People (issue 11): the role catalogue is for everyone; users (admin) and the auditor
    # register (hr, admin) refuse a client by role before any lookup (the id is any id).
    "GET /roles": ({}, None, {200}),
    "GET /users": ({}, None, {403}),
    "POST /users": (
        {},
        {"username": "x1", "display_name": "x", "password": "a-long-pass-1", "roles": ["hr"]},
        {403},
    ),
    # Tokens (issue 11): anyone may ask for a token with a password (wrong here: 401); a user
    # lists and revokes only its own tokens.
    "POST /tokens": ({}, {"username": "cora", "password": "not-hers", "name": "x"}, {401}),
    "GET /tokens": ({}, None, {200}),
    "DELETE /tokens/{token_id}": ({"token_id": "token"}, None, {404}),
    "PATCH /users/{user_id}": ({"user_id": "audit"}, {"active": False}, {403}),
    "POST /organisations": ({}, {"name": "x", "uscc": "91350100M000100Y43"}, {403}),
    "GET /auditors": ({}, None, {403}),
    "POST /auditors": ({}, {"name": "x", "languages": ["zh"]}, {403}),
    "GET /auditors/{auditor_id}": ({"auditor_id": "audit"}, None, {403}),
    "POST /auditors/{auditor_id}/evaluations": (
        {"auditor_id": "audit"},
        {"evaluated_on": "2026-01-01", "evaluator": "x", "result": "qualified"},
        {403},
    ),
    "POST /auditors/{auditor_id}/renewals": (
        {"auditor_id": "audit"},
        {"expires_on": "2030-01-01"},
        {403},
    ),
}


def document_operations() -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }


def url_on(side: Side, operation: str) -> str:
    path = operation.split(" ", 1)[1]
    parameters, _, _ = OPERATIONS[operation]
    for name, attribute in parameters.items():
        path = path.replace(f"{{{name}}}", str(getattr(side, attribute)))
    assert not re.search(r"\{\w+\}", path), f"{operation}: a path parameter has no value"
    return path


def named_markers(side: Side, text: str, sent: tuple[str, ...] = ()) -> list[str]:
    """B's markers in the answer, apart from the values the caller sent itself (a 404 may
    repeat the id it was asked for: that tells the caller nothing it did not know)."""
    for value in sent:
        text = text.replace(value, "<sent>")
    return [marker for marker in side.markers if marker in text]


def sent_values(side: Side, operation: str) -> tuple[str, ...]:
    return tuple(str(getattr(side, a)) for a in OPERATIONS[operation][0].values())


def answer_text(response) -> str:
    if response.is_json:
        return json.dumps(response.json, ensure_ascii=False)
    return response.get_data(as_text=True)


def test_every_operation_of_the_document_is_checked():
    assert document_operations() == set(OPERATIONS)


def test_a_client_gets_only_its_own_organisations_data(world):
    """One world for every operation (each call is refused or harmless to B)."""
    leaks = {}
    for operation in sorted(OPERATIONS):
        _, body, allowed = OPERATIONS[operation]
        method = operation if operation == "POST /attachments" else operation.split()[0]
        response = world.call("carl", method, url_on(world.b, operation), body)
        text = answer_text(response)
        assert response.status_code in allowed, (operation, response.status_code, text)
        if found := named_markers(world.b, text, sent_values(world.b, operation)):
            leaks[operation] = found
    assert leaks == {}
    # Nothing of B's changed: B's client task is still open and unclaimed.
    row = world.web.task(world.b.client_task)
    assert (row.state, row.assignee) == ("open", None)


def test_the_same_operations_on_its_own_objects_are_not_refused_as_unseen(world):
    """The 404s above are about B, not about the operation: on A's objects carl is not told
    they do not exist (he may still be refused by role, or by the object's state)."""
    for operation in sorted(op for op in OPERATIONS if "{" in op):
        _, body, _ = OPERATIONS[operation]
        response = world.call("carl", operation.split()[0], url_on(world.a, operation), body)
        if operation.startswith("POST /incidents"):
            assert response.status_code == 403, operation  # by role, before any lookup
        else:
            assert response.status_code != 404, (operation, answer_text(response))


def test_the_markers_are_visible_to_whoever_may_see_b(world):
    """The markers are real: the overseer's and B's client's answers contain them."""
    for url in ("/tasks", "/certificates", "/instances", "/nonconformities"):
        for username in ("quinn", "cora"):
            response = world.call(username, "GET", url)
            assert named_markers(world.b, answer_text(response)), (username, url)
