"""Handlers of the application phase: application.register, application.record_review,
application.close_terminated, notices.not_accepted, contract.record (R-6.1, R-6.2, R-8.5.6)."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from certflow.db import db
from certflow.settings import load_settings
from domain.attachments import store_attachment
from domain.errors import RuleViolation
from domain.models import Application, Attachment, Contract, Document, Organisation, Site
from handlers import get_handler
from handlers.params import MissingParameter
from tests.factories import VALID_USCC, make_application, make_audit, make_organisation
from tests.helpers import handler_context

OTHER_USCC = "91110108MA01C2D3EG"


def call(operator, params, clock, actor="carl_client"):
    ctx = handler_context(db.session, clock.now(), actor=actor)
    return get_handler(operator)(params, ctx), ctx


def upload(tmp_path, clock, kind, name="file.pdf", data=None, organisation_id=None):
    return store_attachment(
        db.session,
        tmp_path / "uploads",
        filename=name,
        content_type="application/pdf",
        data=data or f"%PDF {kind} {name}".encode(),
        kind=kind,
        uploaded_by="carl_client",
        now=clock.now(),
        organisation_id=organisation_id,
    )


@pytest.fixture
def materials(ctx, clock, tmp_path):
    return {
        "legal_status_file": upload(tmp_path, clock, "legal_status", "licence.pdf").id,
        "service_documents_files": [
            upload(tmp_path, clock, "service_documents", "manual.pdf").id,
            upload(tmp_path, clock, "service_documents", "standards.pdf").id,
        ],
        "service_flowchart_file": upload(tmp_path, clock, "service_flowchart", "flow.pdf").id,
        "other_certificate_files": [upload(tmp_path, clock, "other", "iso9001.pdf").id],
    }


def application_params(materials, **changes):
    params = {
        "org_name": "福州优服电器有限公司",
        "uscc": VALID_USCC,
        "address": "福建省福州市鼓楼区五四路 1 号",
        "contact_name": "王芳",
        "contact_phone": "0591-0000000",
        "contact_email": "service@example.cn",
        "requested_level": 4,
        "scope": "家用电器的安装、维修与退换货服务",
        "sites": [
            {"name": "总部服务中心", "address": "五四路 1 号", "is_fixed": True},
            {"name": "上门服务队", "address": "福州市区", "is_fixed": False},
        ],
        "shift_work": False,
        "headcount": 120,
        **materials,
    }
    params.update(changes)
    return params


# -- application.register ---------------------------------------------------------------------
def test_register_creates_organisation_sites_application_and_links_files(materials, clock):
    result, hctx = call("application.register", application_params(materials), clock)

    application = db.session.get(Application, result["id"])
    sites = db.session.scalars(
        select(Site).where(Site.organisation_id == application.organisation_id).order_by(Site.id)
    ).all()
    assert result == {
        "id": application.id,
        "number": "APP-2026-0001",
        "organisation_id": application.organisation_id,
        "sites": [{"id": s.id, "name": s.name, "address": s.address} for s in sites],
    }
    assert [s["name"] for s in result["sites"]] == ["总部服务中心", "上门服务队"]
    assert hctx.set_business_key.__self__ == ["APP-2026-0001"]
    assert application.status == "submitted"
    assert application.kind == "initial"
    assert application.requested_level == 4
    assert application.submitted_by == "carl_client"
    assert application.submitted_at == clock.now()
    assert application.instance_id is None
    organisation = db.session.get(Organisation, result["organisation_id"])
    assert (organisation.uscc, organisation.name, organisation.contact_name) == (
        VALID_USCC,
        "福州优服电器有限公司",
        "王芳",
    )
    assert [(s.name, s.is_fixed, s.active) for s in organisation.sites] == [
        ("总部服务中心", True, True),
        ("上门服务队", False, True),
    ]
    files = db.session.scalars(
        select(Attachment).where(Attachment.application_id == application.id)
    ).all()
    assert len(files) == 5
    assert {f.organisation_id for f in files} == {organisation.id}
    kinds = {f.filename: f.kind for f in files}
    assert kinds == {
        "licence.pdf": "legal_status",
        "manual.pdf": "service_documents",
        "standards.pdf": "service_documents",
        "flow.pdf": "service_flowchart",
        "iso9001.pdf": "other_certificates",
    }


def test_register_numbers_applications_in_sequence(ctx, clock, tmp_path, materials):
    first, _ = call("application.register", application_params(materials), clock)
    again = {
        "legal_status_file": upload(tmp_path, clock, "legal_status", "l2.pdf").id,
        "service_documents_files": [upload(tmp_path, clock, "service_documents", "m2.pdf").id],
        "service_flowchart_file": upload(tmp_path, clock, "service_flowchart", "f2.pdf").id,
        "other_certificate_files": [],
    }
    second, _ = call("application.register", application_params(again, uscc=OTHER_USCC), clock)
    assert (first["number"], second["number"]) == ("APP-2026-0001", "APP-2026-0002")
    assert first["organisation_id"] != second["organisation_id"]


def test_register_reuses_the_organisation_by_uscc_and_updates_it(ctx, clock, materials):
    existing = make_organisation(db.session, clock.now(), name="旧名称", sites=0)
    db.session.add(Site(organisation_id=existing.id, name="总部服务中心", address="五四路 1 号"))
    db.session.flush()

    params = application_params(materials, contact_name="陈经理", address="新地址 8 号")
    result, _ = call("application.register", params, clock)

    assert result["organisation_id"] == existing.id
    assert db.session.scalars(select(Organisation)).all() == [existing]
    db.session.refresh(existing)
    assert (existing.name, existing.contact_name, existing.address) == (
        "福州优服电器有限公司",
        "陈经理",
        "新地址 8 号",
    )
    # the site it already had is reused, not duplicated
    assert sorted(s.name for s in existing.sites) == ["上门服务队", "总部服务中心"]


def test_register_without_optional_certificates(materials, clock):
    params = application_params(materials, other_certificate_files=None)
    result, _ = call("application.register", params, clock)
    assert db.session.get(Application, result["id"]).status == "submitted"


@pytest.mark.parametrize(
    ("missing", "empty"),
    [
        ("legal_status_file", None),
        ("service_documents_files", []),
        ("service_flowchart_file", None),
    ],
)
def test_register_refuses_a_missing_mandatory_material(materials, clock, missing, empty):
    params = application_params(materials, **{missing: empty})
    with pytest.raises(RuleViolation) as err:
        call("application.register", params, clock)
    assert err.value.rule == "R-6.1"
    assert "material missing" in err.value.detail
    assert db.session.scalars(select(Application)).all() == []


def test_register_refuses_an_unknown_file_id(materials, clock):
    with pytest.raises(RuleViolation) as err:
        call("application.register", application_params(materials, legal_status_file=999), clock)
    assert err.value.rule == "R-6.1"
    assert "999" in err.value.detail


def test_register_refuses_a_file_of_another_case(ctx, clock, tmp_path, materials):
    other = make_organisation(db.session, clock.now(), uscc=OTHER_USCC)
    foreign = upload(tmp_path, clock, "legal_status", "x.pdf", organisation_id=other.id)
    params = application_params(materials, legal_status_file=foreign.id)
    with pytest.raises(RuleViolation) as err:
        call("application.register", params, clock)
    assert err.value.rule == "R-11"


def test_register_refuses_the_same_file_twice(materials, clock):
    params = application_params(materials, service_flowchart_file=materials["legal_status_file"])
    with pytest.raises(RuleViolation, match="twice"):
        call("application.register", params, clock)


def test_register_refuses_a_bad_credit_code_and_bad_values(materials, clock):
    with pytest.raises(RuleViolation) as err:
        call(
            "application.register", application_params(materials, uscc="91350100M000100Y44"), clock
        )
    assert err.value.rule == "R-6.1"
    with pytest.raises(RuleViolation) as err:
        call("application.register", application_params(materials, requested_level=6), clock)
    assert err.value.rule == "R-5"
    with pytest.raises(RuleViolation) as err:
        call("application.register", application_params(materials, sites=[]), clock)
    assert err.value.rule == "R-6.1"
    with pytest.raises(RuleViolation) as err:
        call("application.register", application_params(materials, shift_work="no"), clock)
    assert err.value.rule == "R-7.1.4"


def test_register_names_a_missing_parameter(materials, clock):
    params = application_params(materials)
    del params["headcount"]
    with pytest.raises(MissingParameter, match="'headcount' missing"):
        call("application.register", params, clock)


# -- application.record_review ---------------------------------------------------------------
def review_params(application_id, **changes):
    params = {
        "application_id": application_id,
        "information_sufficient": True,
        "differences_resolved": True,
        "scope_determined": True,
        "cb_able": True,
        "man_days": 2.5,
        "man_days_basis": "120 人，2 个场所",
        "scope": "家用电器的安装与维修服务",
        "accepted": True,
        "not_accepted_reason": "",
    }
    params.update(changes)
    return params


@pytest.fixture
def submitted(ctx, clock):
    org = make_organisation(db.session, clock.now())
    return make_application(db.session, clock.now(), org, status="submitted")


def test_review_accepts_and_records_who_and_when(submitted, clock):
    result, _ = call(
        "application.record_review", review_params(submitted.id), clock, actor="mia_market"
    )
    assert result == {"accepted": True}
    assert submitted.status == "accepted"
    assert submitted.man_days == Decimal("2.5")
    assert submitted.scope == "家用电器的安装与维修服务"
    assert (submitted.reviewed_by, submitted.reviewed_at) == ("mia_market", clock.now())
    assert submitted.review["cb_able"] is True
    assert submitted.review["man_days_basis"] == "120 人，2 个场所"
    assert submitted.not_accepted_reason is None


@pytest.mark.parametrize(
    "confirmation",
    ["information_sufficient", "differences_resolved", "scope_determined", "cb_able"],
)
def test_review_refuses_acceptance_with_a_false_confirmation(submitted, clock, confirmation):
    with pytest.raises(RuleViolation) as err:
        call(
            "application.record_review", review_params(submitted.id, **{confirmation: False}), clock
        )
    assert err.value.rule == "R-6.2.1"
    assert submitted.status == "submitted"


@pytest.mark.parametrize("man_days", [None, 0, 0.4])
def test_review_refuses_acceptance_without_man_days(submitted, clock, man_days):
    with pytest.raises(RuleViolation) as err:
        call("application.record_review", review_params(submitted.id, man_days=man_days), clock)
    assert err.value.rule == "R-6.2.1"


def test_review_not_accepted_records_the_reason(submitted, clock):
    params = review_params(
        submitted.id, accepted=False, cb_able=False, not_accepted_reason="暂无该领域审查员"
    )
    result, _ = call("application.record_review", params, clock)
    assert result == {"accepted": False}
    assert submitted.status == "not_accepted"
    assert submitted.not_accepted_reason == "暂无该领域审查员"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_review_not_accepted_needs_a_reason(submitted, clock, reason):
    params = review_params(submitted.id, accepted=False, not_accepted_reason=reason)
    with pytest.raises(RuleViolation) as err:
        call("application.record_review", params, clock)
    assert err.value.rule == "R-6.2.2b"
    assert submitted.status == "submitted"


def test_review_only_once(submitted, clock):
    call("application.record_review", review_params(submitted.id), clock)
    with pytest.raises(RuleViolation, match="cannot be reviewed"):
        call("application.record_review", review_params(submitted.id), clock)


# -- notices.not_accepted (R-6.2.2b) ---------------------------------------------------------
def test_not_accepted_notice_states_reason_number_organisation_date_and_re_review(submitted, clock):
    params = review_params(submitted.id, accepted=False, not_accepted_reason="暂无该领域审查员")
    call("application.record_review", params, clock)

    result, _ = call("notices.not_accepted", {"application_id": submitted.id}, clock, actor="mia")

    document = db.session.get(Document, result["document_id"])
    assert document.kind == "not_accepted_notice"
    assert document.application_id == submitted.id
    assert document.organisation_id == submitted.organisation_id
    assert document.created_by == "mia"
    assert "不予受理" in document.title
    assert submitted.number in document.title
    body = document.body
    for text in ("暂无该领域审查员", submitted.number, "福州优服电器有限公司", "2026年1月5日"):
        assert text in body
    assert "重新进行评审" in body
    assert document.data["reason"] == "暂无该领域审查员"
    assert document.data["application_number"] == submitted.number
    assert document.data["date"] == "2026-01-05"
    assert document.data["may_be_re_reviewed"] is True


def test_not_accepted_notice_needs_a_not_accepted_application(submitted, clock):
    with pytest.raises(RuleViolation) as err:
        call("notices.not_accepted", {"application_id": submitted.id}, clock)
    assert err.value.rule == "R-6.2.2b"


# -- application.close_terminated (R-8.5.6) --------------------------------------------------
def test_close_terminated_after_a_terminated_audit(ctx, clock):
    org = make_organisation(db.session, clock.now())
    application = make_application(db.session, clock.now(), org)
    audit = make_audit(db.session, clock.now(), org, application)

    with pytest.raises(RuleViolation) as err:
        call("application.close_terminated", {"application_id": application.id}, clock)
    assert err.value.rule == "R-8.5.6"

    audit.status = "terminated"
    result, _ = call("application.close_terminated", {"application_id": application.id}, clock)
    assert result == {}
    assert application.status == "terminated"


def test_close_terminated_refuses_a_certified_application(ctx, clock):
    org = make_organisation(db.session, clock.now())
    application = make_application(db.session, clock.now(), org, status="certified")
    with pytest.raises(RuleViolation):
        call("application.close_terminated", {"application_id": application.id}, clock)


def test_unknown_application_is_named(ctx, clock):
    with pytest.raises(LookupError, match="application 4242 not found"):
        call("application.close_terminated", {"application_id": 4242}, clock)
    with pytest.raises(TypeError, match="application_id"):
        call("application.close_terminated", {"application_id": "1"}, clock)


# -- contract.record (R-6.2.2a) --------------------------------------------------------------
@pytest.fixture
def accepted(ctx, clock):
    org = make_organisation(db.session, clock.now())
    return make_application(db.session, clock.now(), org, status="accepted")


def contract_params(application_id, clock, **changes):
    today = clock.now().date()
    params = {
        "application_id": application_id,
        "contract_number": "CTC-HT-2026-001",
        "client_signatory": "王芳",
        "client_signed_on": (today - timedelta(days=1)).isoformat(),
        "cb_signatory": "赵主任",
        "cb_signed_on": today.isoformat(),
        "fee": 28000,
    }
    params.update(changes)
    return params


def test_contract_recorded_and_application_contracted(accepted, clock):
    result, _ = call("contract.record", contract_params(accepted.id, clock), clock, actor="mia")
    contract = db.session.get(Contract, result["id"])
    assert result == {"id": contract.id, "number": "CTC-HT-2026-001"}
    assert contract.application_id == accepted.id
    assert (contract.client_signatory, contract.cb_signatory) == ("王芳", "赵主任")
    assert contract.cb_signed_on == clock.now().date()
    assert contract.fee == Decimal("28000")
    assert (contract.recorded_by, contract.recorded_at) == ("mia", clock.now())
    assert accepted.status == "contracted"


@pytest.mark.parametrize("field", ["client_signed_on", "cb_signed_on"])
def test_contract_refuses_a_date_after_today(accepted, clock, field):
    tomorrow = (clock.now().date() + timedelta(days=1)).isoformat()
    with pytest.raises(RuleViolation) as err:
        call("contract.record", contract_params(accepted.id, clock, **{field: tomorrow}), clock)
    assert err.value.rule == "R-6.2.2a"
    assert "future" in err.value.detail
    assert accepted.status == "accepted"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_signatory", ""),
        ("cb_signatory", "  "),
        ("cb_signatory", None),
        ("client_signed_on", ""),
        ("cb_signed_on", "05/01/2026"),
    ],
)
def test_contract_refuses_a_missing_signature_or_date(accepted, clock, field, value):
    with pytest.raises(RuleViolation) as err:
        call("contract.record", contract_params(accepted.id, clock, **{field: value}), clock)
    assert err.value.rule == "R-6.2.2a"
    assert db.session.scalars(select(Contract)).all() == []


def test_contract_needs_an_accepted_application_and_only_one(accepted, clock):
    call("contract.record", contract_params(accepted.id, clock), clock)
    with pytest.raises(RuleViolation, match="only an accepted application"):
        call("contract.record", contract_params(accepted.id, clock, contract_number="X-2"), clock)


# -- a client applies only for its own organisation ---------------------------------------
def client_user(clock, username, organisation_id=None):
    from certflow.accounts import create_user

    user = create_user(
        db.session,
        username,
        password="x",
        roles={"client"},
        display_name=username,
        now=clock.now(),
    )
    user.organisation_id = organisation_id
    db.session.flush()
    return user


def test_first_application_links_the_client_account_to_its_organisation(materials, clock):
    user = client_user(clock, "first_client")
    result, _ = call("application.register", application_params(materials), clock, "first_client")
    assert user.organisation_id == result["organisation_id"]


def test_client_cannot_apply_for_another_organisation(ctx, materials, clock):
    mine = make_organisation(db.session, clock.now(), uscc=OTHER_USCC, name="我的公司")
    client_user(clock, "own_client", organisation_id=mine.id)
    with pytest.raises(RuleViolation, match="R-11"):
        call("application.register", application_params(materials), clock, "own_client")


def test_second_client_account_is_not_linked_silently(ctx, materials, clock, tmp_path):
    client_user(clock, "first_client")
    call("application.register", application_params(materials), clock, "first_client")
    client_user(clock, "intruder")
    fresh = {
        "legal_status_file": upload(tmp_path, clock, "legal_status", "l2.pdf").id,
        "service_documents_files": [upload(tmp_path, clock, "service_documents", "m2.pdf").id],
        "service_flowchart_file": upload(tmp_path, clock, "service_flowchart", "f2.pdf").id,
        "other_certificate_files": [],
    }
    with pytest.raises(RuleViolation, match="already has client accounts"):
        call("application.register", application_params(fresh), clock, "intruder")


def test_not_accepted_notice_in_the_document_locale_of_the_settings(submitted, clock):
    """CERTFLOW_DOCUMENT_LOCALE=en: the handler writes the notice from the English catalogue."""
    params = review_params(submitted.id, accepted=False, not_accepted_reason="No auditor")
    call("application.record_review", params, clock)
    ctx = replace(
        handler_context(db.session, clock.now(), actor="mia"),
        settings=load_settings({"document_locale": "en"}),
    )

    result = get_handler("notices.not_accepted")({"application_id": submitted.id}, ctx)

    body = db.session.get(Document, result["document_id"]).body
    assert body.startswith("# Notice of non-acceptance of the certification application\n")
    assert f"(application {submitted.number})" in body and "Reason: No auditor" in body
    assert "January 5, 2026" in body
    assert "不予受理" not in body and "重新进行评审" not in body
