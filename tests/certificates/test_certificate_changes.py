"""Certificate changes and scope changes (R-9.3, R-9.4.1, R-9.4.2, R-14, R-11) through
certificate_change.bpmn with the engine API and the simulated clock, after a real certification
(tests/lifecycle_case.py), and the change handlers' rules, on both databases."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from certflow.accounts import create_user, issue_token
from certflow.dates import china_date
from certflow.db import db
from certflow.models import User
from domain.errors import RuleViolation
from domain.models import (
    Announcement,
    Certificate,
    CertificateEvent,
    ChangeRequest,
    Document,
    Organisation,
    Site,
)
from engine.errors import FormValidationError
from engine.models import HumanTask
from engine.service import Actor
from handlers.registry import GuardContext, get_validator
from tests.certificate_factory import (
    ISSUED_AT,
    OTHER_USCC,
    call,
    issued_certificate,
)
from tests.certification_case import deploy_everything, make_people
from tests.factories import make_organisation
from tests.lifecycle_case import Lifecycle
from webapp.access import Viewer, may_see_task
from webapp.registry import load_public_certificate

PROCESS = "certificate_change"
NEW_NAME = "福建优服电器服务有限公司"
NEW_SITE = {"name": "鼓楼杨桥服务网点", "address": "福州市鼓楼区杨桥中路 9 号", "is_fixed": True}


@pytest.fixture
def life(ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    lifecycle = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    lifecycle.engine_app = ctx  # travel_to fires the due timers as the scheduler would
    return lifecycle


def certified(life) -> Certificate:
    """A four-star certificate with the two sites of the case, then 100 days pass."""
    certificate = life.certify()
    life.at(140)
    return certificate


def start_change(life, certificate: Certificate) -> int:
    instance = life.engine.start(
        PROCESS,
        actor=life.people.client,
        data={"certificate_id": certificate.id},
        business_key=certificate.number,
    )
    assert instance.status == "running", life.engine.open_incidents(instance.id)
    return instance.id


def request(kind: str, **fields) -> dict:
    data = {
        "kind": kind,
        "new_value": None,
        "new_star_level": None,
        "site": None,
        "site_id": None,
        "reason": "业务调整 business reorganisation",
        "request_letter_file": None,
    }
    data.update(fields)
    return data


def evaluate(life, approved: bool = True, evaluation: str = "材料齐全，变更属实 documents checked"):
    life.complete_in(
        PROCESS,
        "Task_EvaluateChange",
        life.people.market,
        {"approved": approved, "evaluation": evaluation},
    )


def change_row() -> ChangeRequest:
    db.session.rollback()
    return db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id.desc())).first()


def events(certificate_id: int) -> list[CertificateEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate_id)
            .order_by(CertificateEvent.id)
        )
    )


def announcements(certificate_id: int) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.certificate_id == certificate_id)
            .order_by(Announcement.id)
        )
    )


def instance_status(life, instance_id: int) -> str:
    db.session.rollback()
    return life.engine.get_instance(instance_id).status


# --- a name change ------------------------------------------------------------------------


def test_name_change_reissues_the_certificate_with_both_dates_and_history(life, ctx):
    old = certified(life)
    issued_on, today = old.issued_on, china_date(life.clock.now())
    instance_id = start_change(life, old)
    task = life.open_in(PROCESS, "Task_RequestChange")
    facts = life.engine.task_data(task)["certificate"]
    assert facts["number"] == old.number and len(facts["sites"]) == 2  # shown in the form

    life.complete_in(
        PROCESS, "Task_RequestChange", life.people.client, request("name", new_value=NEW_NAME)
    )
    change = change_row()
    assert change.reference == f"BG-{today.year}-0001"
    assert (change.status, change.kind, change.requested_by) == ("requested", "name", "wang_client")
    evaluate(life)

    assert instance_status(life, instance_id) == "completed"
    change = change_row()
    assert change.status == "completed" and change.evaluated_by == "ma_market"
    old = db.session.get(Certificate, old.id)
    new = db.session.get(Certificate, change.new_certificate_id)
    # a new certificate showing the original issue date and the change date.
    assert new.number != old.number and new.organisation_name == NEW_NAME
    assert (new.original_issued_on, new.changed_on, new.issued_on) == (issued_on, today, today)
    assert new.expires_on == old.expires_on and new.star_level == old.star_level == 4
    assert new.sites == old.sites and new.status == "valid" and new.replaces_id == old.id
    assert old.status == "superseded" and old.mark_use_allowed is False
    assert db.session.get(Organisation, new.organisation_id).name == NEW_NAME
    # The history: an event on both, linked.
    [reissued] = events(new.id)
    assert (reissued.event, reissued.rule) == ("reissued", "R-9.3")
    assert reissued.data["replaces_number"] == old.number
    assert reissued.data["organisation_name"]["to"] == NEW_NAME
    assert [(e.event, e.rule) for e in events(old.id)] == [
        ("issued", "R-9.1"),
        ("superseded", "R-9.3"),
    ]
    assert announcements(new.id) == []  # a name change is not announced
    # The public registry shows both certificates, linked, with both dates.
    public_new = load_public_certificate(new)
    assert public_new.replaces == old.number and public_new.changed_on == today
    assert public_new.original_issued_on == issued_on
    assert [e.event for e in public_new.history] == ["reissued"]
    public_old = load_public_certificate(old)
    assert public_old.replaced_by == new.number and public_old.status == "superseded"
    assert [e.event for e in public_old.history] == ["issued", "superseded"]
    page = ctx.test_client().get(f"/registry/certificates/{old.number}")
    assert page.status_code == 200 and new.number in page.get_data(as_text=True)
    [notice] = db.session.scalars(
        select(Document).where(Document.kind == "certificate_change_notice")
    ).all()
    assert notice.data["new_certificate"] == new.number


def test_only_the_certificate_holder_sees_the_change_tasks(life):
    """R-11: the client tasks of a change are the certificate organisation's client's only."""
    old = certified(life)
    start_change(life, old)
    other = make_organisation(db.session, life.clock.now(), name="另一公司", uscc=OTHER_USCC)
    stranger = create_user(
        db.session,
        "zhao_client",
        password="pw",
        roles={"client"},
        display_name="赵",
        now=life.clock.now(),
    )
    stranger.organisation_id = other.id
    db.session.commit()
    holder = Viewer.of(db.session.scalars(select(User).where(User.username == "wang_client")).one())
    assert holder.organisation_id == old.organisation_id
    outsider = Viewer.of(stranger)
    market = Viewer("ma_market", frozenset({"market"}))

    task = life.open_in(PROCESS, "Task_RequestChange")
    assert task.business_key == old.number and task.candidate_role == "client"
    assert may_see_task(holder, task)
    assert not may_see_task(outsider, task)
    assert not may_see_task(Viewer("wu_client", frozenset({"client"})), task)  # no organisation
    assert not may_see_task(market, task)

    life.complete_in(
        PROCESS, "Task_RequestChange", life.people.client, request("name", new_value=NEW_NAME)
    )
    evaluation = life.open_in(PROCESS, "Task_EvaluateChange")
    assert may_see_task(market, evaluation)
    assert not may_see_task(holder, evaluation) and not may_see_task(outsider, evaluation)

    # A client of another organisation cannot start a change of this certificate either.
    instance = life.engine.start(
        PROCESS,
        actor=Actor("zhao_client", frozenset({"client"})),
        data={"certificate_id": old.id},
    )
    db.session.rollback()
    incidents = life.engine.open_incidents(instance.id)
    assert incidents and "R-11" in incidents[0].message
    assert life.engine.get_instance(instance.id).status == "error"


# --- a downgrade on request and a refusal -------------------------------------------------


def test_downgrade_on_request_is_reissued_and_published(life):
    old = certified(life)
    instance_id = start_change(life, old)
    life.complete_in(
        PROCESS, "Task_RequestChange", life.people.client, request("downgrade", new_star_level=3)
    )
    evaluate(life)
    assert instance_status(life, instance_id) == "completed"
    new = db.session.get(Certificate, change_row().new_certificate_id)
    assert (new.star_level, new.mark) == (3, "服务认证标志 3星")
    assert new.original_issued_on == old.issued_on
    [event] = events(new.id)
    assert (event.event, event.rule, event.data["star_level"]) == (
        "downgraded",
        "R-9.3",
        {"from": 4, "to": 3},
    )
    [announcement] = announcements(new.id)
    assert announcement.kind == "downgraded" and old.number in announcement.body
    # R-10.1(f): a plaque of the new level replaces the old one (certificate_change.bpmn
    # Event_PlaqueAfterChange starts mark_plaque for the new certificate).
    plaques = db.session.scalars(
        select(HumanTask.business_key).where(
            HumanTask.element_id == "Task_IssuePlaque", HumanTask.state == "open"
        )
    ).all()
    assert sorted(plaques) == sorted([old.number, new.number])


def test_refused_change_is_notified_and_leaves_the_certificate(life):
    old = certified(life)
    instance_id = start_change(life, old)
    life.complete_in(
        PROCESS,
        "Task_RequestChange",
        life.people.client,
        request("scope_text", new_value="家用电器及厨房电器的安装、维修服务"),
    )
    evaluate(
        life, approved=False, evaluation="新范围超出已审查的服务 the new scope was not audited"
    )

    db.session.rollback()
    instance = life.engine.get_instance(instance_id)
    assert instance.status == "completed"
    change = change_row()
    assert (change.status, change.new_certificate_id) == ("refused", None)
    [notice] = db.session.scalars(
        select(Document).where(Document.kind == "change_refusal_notice")
    ).all()
    assert "新范围超出已审查的服务" in notice.body and change.reference in notice.title
    assert notice.data["stage"] == "evaluation"
    assert db.session.scalar(select(func.count(Certificate.id))) == 1
    current = db.session.get(Certificate, old.id)
    assert current.status == "valid" and current.scope == old.scope
    assert [e.event for e in events(old.id)] == ["issued"]


# --- a new site through an on-site audit -------------------------------------------------


# The new site's whole initial procedure: tests/certificates/test_site_extension.py.


# --- a site dropped on written request ---------------------------------------------------


def test_site_removed_on_written_request_cancels_the_old_certificate(life):
    old = certified(life)
    letter = life.upload("other", "缩小认证范围申请.pdf")
    instance_id = start_change(life, old)
    dropped = old.sites[1]
    life.complete_in(
        PROCESS,
        "Task_RequestChange",
        life.people.client,
        request("remove_site", site_id=dropped["id"], request_letter_file=letter),
    )
    evaluate(life)

    assert instance_status(life, instance_id) == "completed"
    change = change_row()
    assert change.status == "completed" and change.details["request_letter_file"] == letter
    old = db.session.get(Certificate, old.id)
    new = db.session.get(Certificate, change.new_certificate_id)
    assert [s["id"] for s in new.sites] == [old.sites[0]["id"]]
    assert new.status == "valid" and new.replaces_id == old.id
    assert new.original_issued_on == old.issued_on and new.changed_on is not None
    assert db.session.get(Site, dropped["id"]).active is False
    # the old certificate is cancelled and recalled.
    assert old.status == "cancelled" and old.mark_use_allowed is False
    old_events = events(old.id)
    assert [(e.event, e.rule) for e in old_events] == [
        ("issued", "R-9.1"),
        ("superseded", "R-9.3"),
        ("cancelled", "R-9.4.2"),
    ]
    cancelled = old_events[-1]
    assert cancelled.data["recalled"] is True and cancelled.sites == [dropped["id"]]
    assert cancelled.data["replaced_by_number"] == new.number
    [(event, rule)] = [(e.event, e.rule) for e in events(new.id)]
    assert (event, rule) == ("reissued", "R-9.4.2")
    # published.
    [announcement] = announcements(new.id)
    assert announcement.kind == "scope_reduced"
    assert dropped["name"] in announcement.body and old.number in announcement.body
    assert announcement.published_on == china_date(life.clock.now())
    [notice] = db.session.scalars(
        select(Document).where(Document.kind == "certificate_change_notice")
    ).all()
    assert notice.data["recall"] is True
    public_old = load_public_certificate(old)
    assert public_old.status == "cancelled" and public_old.replaced_by == new.number
    assert public_old.history[-1].rule == "R-9.4.2"


# --- bad requests: 422 ---------------------------------------------------------------------------


def test_bad_change_requests_are_refused_with_field_errors(life, ctx):
    old = certified(life)
    instance_id = start_change(life, old)
    letter = life.upload("other", "申请.pdf")
    task = life.open_in(PROCESS, "Task_RequestChange")
    first, second = old.sites[0]["id"], old.sites[1]["id"]

    def errors(data) -> dict:
        with pytest.raises(FormValidationError) as refused:
            life.engine.complete_task(task.id, actor=life.people.client, data=data)
        return refused.value.errors

    # The form (JSON Schema, if/then per kind).
    assert "new_value" in errors(request("name"))
    assert "new_value" in errors(request("address", new_value="x" * 501))
    assert "new_star_level" in errors(request("downgrade", new_star_level=5))
    assert "site" in errors(request("add_site"))
    assert "request_letter_file" in errors(request("remove_site", site_id=second))
    assert "site" in errors(request("name", new_value=NEW_NAME, site=NEW_SITE))
    assert "reason" in errors(request("name", new_value=NEW_NAME, reason=""))
    assert "kind" in errors(request("rename_everything"))
    # The validator change_request_fits (the rules needing the database).
    found = errors(request("downgrade", new_star_level=4))
    assert "below the held level 4" in found["new_star_level"][0]
    found = errors(request("name", new_value=old.organisation_name))
    assert "already" in found["new_value"][0]
    found = errors(request("remove_site", site_id=99999, request_letter_file=letter))
    assert found["site_id"][0].startswith("R-9.4.2")
    found = errors(request("remove_site", site_id=second, request_letter_file=10**6))
    assert "request_letter_file" in found
    duplicate = {"name": old.sites[0]["name"], "address": old.sites[0]["address"], "is_fixed": True}
    assert "site" in errors(request("add_site", site=duplicate))

    # Through the HTTP API: 422 with the field errors.
    client = db.session.scalars(select(User).where(User.username == "wang_client")).one()
    token = issue_token(db.session, client, life.clock.now(), "test")
    db.session.commit()
    response = ctx.test_client().post(
        f"/api/v1/tasks/{task.id}/complete",
        json={"data": request("downgrade", new_star_level=4)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert "new_star_level" in response.json["errors"]

    assert db.session.scalar(select(func.count(ChangeRequest.id))) == 0
    life.complete_in(
        PROCESS,
        "Task_RequestChange",
        life.people.client,
        request("remove_site", site_id=first, request_letter_file=letter),
    )
    assert change_row().details["site"]["id"] == first
    assert instance_status(life, instance_id) == "running"


# --- the handlers' own checks (defence in depth) -------------------------------------------------


def register_params(certificate, **fields):
    return {"certificate_id": certificate.id, **request(fields.pop("kind"), **fields)}


def test_register_refuses_the_last_site_and_other_organisations(ctx):
    certificate = issued_certificate(sites=1)
    [site] = certificate.sites
    params = register_params(certificate, kind="remove_site", site_id=site["id"])
    with pytest.raises(RuleViolation) as refused:
        call("changes.register", {**params, "request_letter_file": None}, actor="market_user")
    assert refused.value.rule == "R-9.4.2"
    assert "last site" in str(refused.value) and "written request" in str(refused.value)

    other = make_organisation(db.session, ISSUED_AT, name="另一公司", uscc=OTHER_USCC)
    stranger = create_user(
        db.session, "zhao_client", password="pw", roles={"client"}, display_name="赵", now=ISSUED_AT
    )
    stranger.organisation_id = other.id
    db.session.flush()
    name_change = register_params(certificate, kind="name", new_value=NEW_NAME)
    with pytest.raises(RuleViolation) as refused:
        call("changes.register", name_change, actor="zhao_client")
    assert refused.value.rule == "R-11"

    # A suspended certificate is not changed: restore it first.
    call(
        "certificate.suspend",
        {"certificate_id": certificate.id, "reason": "e", "sites": None, "detail": ""},
    )
    with pytest.raises(RuleViolation) as refused:
        call("changes.register", name_change, actor="market_user")
    assert refused.value.rule == "R-9.3" and "suspended" in str(refused.value)
    assert db.session.scalar(select(func.count(ChangeRequest.id))) == 0


def test_register_then_evaluate_records_who_and_when(ctx):
    certificate = issued_certificate(sites=2)
    later = ISSUED_AT + timedelta(days=30)
    result = call(
        "changes.register",
        register_params(certificate, kind="address", new_value="福州市台江区江滨路 2 号"),
        later,
        actor="market_user",
    )
    assert result == {
        "id": result["id"],
        "reference": "BG-2026-0001",
        "kind": "address",
        "needs_onsite_audit": False,
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
    }
    with pytest.raises(RuleViolation):
        call("changes.apply", {"change_id": result["id"]}, later)  # not approved yet
    with pytest.raises(RuleViolation):
        call("changes.evaluate", {"change_id": result["id"], "approved": True, "evaluation": ""})
    call(
        "changes.evaluate",
        {"change_id": result["id"], "approved": True, "evaluation": "营业执照已核"},
        later,
        actor="ma_market",
    )
    change = db.session.get(ChangeRequest, result["id"])
    assert (change.status, change.evaluated_by, change.evaluated_at) == (
        "approved",
        "ma_market",
        later,
    )
    with pytest.raises(RuleViolation):  # evaluated once
        call("changes.evaluate", {"change_id": change.id, "approved": False, "evaluation": "x"})
    reissue = call("changes.apply", {"change_id": change.id}, later, actor="system")
    new = db.session.get(Certificate, reissue["certificate_id"])
    assert new.organisation_address == "福州市台江区江滨路 2 号"
    assert reissue["original_issued_on"] == date(2026, 3, 10).isoformat()
    assert reissue["changed_on"] == china_date(later).isoformat()
    assert reissue["replaced_status"] == "superseded"


def test_site_audit_validator_needs_the_new_site(ctx):
    check = get_validator("site_audit_covers_new_site")

    def run(data):
        return check(
            GuardContext(
                session=db.session,
                now=ISSUED_AT,
                instance_id=1,
                business_key=None,
                element_id="Task_AuditPlan",
                actor="zhang_leader",
                actor_roles=frozenset({"team_leader"}),
                data=data,
            )
        )

    site_audit = {"site_id": 7, "site_name": "新网点"}
    assert run({"activities": [{"site": 7}]} | {"site_audit": site_audit}) == {}
    assert "activities" in run({"activities": [{"site": 6}], "site_audit": site_audit})
    assert run({"activities": [{"site": 6}]}) == {}  # not a scope extension audit
