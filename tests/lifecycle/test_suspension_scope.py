"""R-9.5.1 对客户的证书进行部分暂停或全部暂停的处置，必要时应缩小证书范围: a suspension ends
with a reduced scope instead of a withdrawal when the corrections hold except at some sites —
through suspension.bpmn (Gateway_CorrectionAccepted → Task_ReduceScopeAfterSuspension) with the
engine API after a real certification, on both databases."""

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import Announcement, Certificate, CertificateEvent, Site
from engine.errors import FormValidationError
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle
from webapp.registry import load_public_certificate

PROCESS = "suspension"


@pytest.fixture
def life(ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    lifecycle = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    lifecycle.engine_app = ctx
    return lifecycle


def suspend(life, certificate: Certificate, sites: list[int] | None) -> int:
    """A substantiated serious complaint (R-9.5.1d) suspends `sites` (None: all)."""
    life.engine.send_message(
        "suspend_certificate",
        correlation={"business_key": certificate.number},
        payload={
            "business_key": certificate.number,
            "certificate_id": certificate.id,
            "reason": "d",
            "sites": sites,
            "detail": "投诉属实 complaint substantiated",
        },
        actor=life.people.audit_dept,
    )
    [instance] = life.instances(PROCESS)
    assert instance.status == "running", life.engine.open_incidents(instance.id)
    life.complete_in(
        PROCESS,
        "Task_SubmitSuspensionCorrection",
        life.people.client,
        {"corrective_actions": "整改完成 corrected", "evidence_files": []},
    )
    return instance.id


def verify(life, **answers) -> None:
    life.complete_in(
        PROCESS,
        "Task_VerifySuspensionCorrection",
        life.people.audit_dept,
        {"method": "on_site", "note": "现场验证 verified on site", **answers},
    )


def refused(life, **answers) -> dict[str, list[str]]:
    task = life.open_in(PROCESS, "Task_VerifySuspensionCorrection")
    with pytest.raises(FormValidationError) as err:
        life.engine.complete_task(
            task.id,
            actor=life.people.audit_dept,
            data={"method": "on_site", "note": "现场验证", **answers},
        )
    # An item outside the options is refused on the item (reduce_scope_sites/0), a rule of the
    # whole list on the field.
    return {key.split("/")[0]: value for key, value in err.value.errors.items()}


def events(certificate_id: int) -> list[tuple[str, str]]:
    db.session.rollback()
    return [
        (e.event, e.rule)
        for e in db.session.scalars(
            select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate_id)
            .order_by(CertificateEvent.id)
        )
    ]


def test_a_partial_suspension_ends_with_the_scope_reduced_instead_of_a_withdrawal(life):
    old = life.certify()
    life.at(100)
    kept, dropped = (s["id"] for s in old.sites)
    instance_id = suspend(life, old, [dropped])
    # The verification offers only the suspended site (x-options suspension_scope_sites).
    task = life.open_in(PROCESS, "Task_VerifySuspensionCorrection")
    assert life.engine.task_data(task)["reduce_scope_sites"] == []
    verify(life, accepted=True, reduce_scope_sites=[dropped])

    db.session.rollback()
    assert life.engine.get_instance(instance_id).status == "completed"
    old = db.session.get(Certificate, old.id)
    [new] = db.session.scalars(select(Certificate).where(Certificate.replaces_id == old.id))
    # Restored for the rest, reissued without the site: same expiry, mark use allowed.
    assert [s["id"] for s in new.sites] == [kept]
    assert (new.status, new.mark_use_allowed) == ("valid", True)
    assert new.expires_on == old.expires_on and new.original_issued_on == old.original_issued_on
    assert db.session.get(Site, dropped).active is False
    # The old certificate: restored, superseded, then cancelled and recalled.
    assert (old.status, old.mark_use_allowed) == ("cancelled", False)
    assert events(old.id)[-4:] == [
        ("suspended", "R-9.5.1d"),
        ("restored", "R-9.5.1"),
        ("superseded", "R-9.3"),
        ("cancelled", "R-9.5.1"),
    ]
    assert events(new.id) == [("reissued", "R-9.5.1")]
    # the restoration and the reduced scope are published.
    kinds = [
        a.kind
        for a in db.session.scalars(
            select(Announcement)
            .where(Announcement.certificate_id.in_([old.id, new.id]))
            .order_by(Announcement.id)
        )
    ]
    assert kinds[-2:] == ["restored", "scope_reduced"]
    [reduced] = db.session.scalars(
        select(Announcement).where(
            Announcement.certificate_id == new.id, Announcement.kind == "scope_reduced"
        )
    )
    site_name = db.session.get(Site, dropped).name
    assert site_name in reduced.body and "R-9.5.1" in reduced.body and old.number in reduced.body
    public = load_public_certificate(old)
    assert public.replaced_by == new.number and public.status == "cancelled"
    assert life.instances("withdrawal") == []


def test_the_verification_refuses_a_scope_reduction_that_breaks_the_rule(life):
    """R-9.5.1: only the suspended sites of a partial suspension, never every site, and only
    when the corrections are accepted (otherwise the certificate is withdrawn, R-9.5.2a)."""
    old = life.certify()
    life.at(100)
    kept, dropped = (s["id"] for s in old.sites)
    suspend(life, old, [dropped])
    assert "reduce_scope_sites" in refused(life, accepted=True, reduce_scope_sites=[kept])
    errors = refused(life, accepted=True, reduce_scope_sites=[kept, dropped])
    assert "reduce_scope_sites" in errors
    errors = refused(life, accepted=False, reduce_scope_sites=[dropped])
    assert "R-9.5.2a" in errors["reduce_scope_sites"][0]
    verify(life, accepted=True)  # no reduction: restored as before
    db.session.rollback()
    certificate = db.session.get(Certificate, old.id)
    assert certificate.status == "valid" and len(certificate.sites) == 2


def test_a_full_suspension_may_drop_any_site_but_not_all(life):
    old = life.certify()
    life.at(100)
    first, second = (s["id"] for s in old.sites)
    suspend(life, old, None)
    errors = refused(life, accepted=True, reduce_scope_sites=[first, second])
    assert "R-9.5.2a" in errors["reduce_scope_sites"][0]
    verify(life, accepted=True, reduce_scope_sites=[first])
    db.session.rollback()
    [new] = db.session.scalars(select(Certificate).where(Certificate.replaces_id == old.id))
    assert [s["id"] for s in new.sites] == [second] and new.mark_use_allowed is True


def test_scope_reduction_rule_without_the_engine():
    """domain.suspension_scope.scope_reduction_problems: the rule itself (R-9.5.1, R-9.5.2a)."""
    from types import SimpleNamespace

    from domain.errors import RuleViolation
    from domain.suspension_scope import scope_reduction_problems

    sites = [{"id": 1}, {"id": 2}, {"id": 3}]
    full = SimpleNamespace(number="C-1", status="suspended", sites=sites, suspended_sites=[])
    partial = SimpleNamespace(number="C-1", status="suspended", sites=sites, suspended_sites=[2])
    assert scope_reduction_problems(full, True, None) == []
    assert scope_reduction_problems(full, True, [3, 1, 3]) == [1, 3]
    assert scope_reduction_problems(partial, True, [2]) == [2]
    for certificate, accepted, value, words in (
        (partial, True, [1], "cannot be dropped"),
        (full, True, [1, 2, 3], "withdrawn instead"),
        (full, False, [1], "R-9.5.2a"),
        (full, True, ["1"], "by their ids"),
        (SimpleNamespace(**{**vars(full), "status": "valid"}), True, [1], "not suspended"),
    ):
        with pytest.raises(RuleViolation, match=words) as err:
            scope_reduction_problems(certificate, accepted, value)
        assert err.value.field == "reduce_scope_sites"
