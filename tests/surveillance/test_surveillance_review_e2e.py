"""Every surveillance reviews the organisation's changes and the use of the certificate and mark
(R-8.10.2 c, f; R-10.1 a–c, R-10.2), through the real diagrams: a problem found is a
nonconformity of the surveillance audit, reported with the on-site audit's NCs and corrected
before the certificate is maintained (R-8.7); a problem without an NC is refused at submit."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import add_months
from certflow.db import db
from domain.models import Document, Nonconformity
from engine.errors import FormValidationError
from tests.lifecycle_case import NOTHING_FOUND_REVIEW, nine_am

MARK_NC = {
    "item_code": "5.1.1.1",
    "nature": "general",
    "description": "宣传册使用五星标志，超出所获四星级 brochure shows the five-star mark",
    "evidence": "2026 年宣传册第 2 页 brochure page 2",
}
IMPROPER_PUBLICITY = {
    **NOTHING_FOUND_REVIEW,
    "organisation_changes": "changed",
    "changes_details": "新设售后服务部 a new after-sales department",
    "publicity_use": "improper",
}


def to_the_review(life):
    """Four stars held; the first surveillance, up to its review of changes and mark use."""
    certificate = life.certify()
    due = add_months(certificate.issued_on, 12)
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    return certificate, due - timedelta(days=55)


def test_a_mark_used_improperly_in_publicity_is_a_nonconformity_corrected_in_the_nc_cycle(life):
    certificate, start = to_the_review(life)
    # The on-site audit itself finds nothing: the only NC is the review's.
    life.surveil(start, points_lost=0, review={**IMPROPER_PUBLICITY, "nonconformities": [MARK_NC]})
    db.session.rollback()
    (nc,) = db.session.scalars(select(Nonconformity).order_by(Nonconformity.id)).all()[-1:]
    assert nc.description == MARK_NC["description"] and nc.deadline is not None  # reported
    review = db.session.scalars(select(Document).where(Document.kind == "surveillance_review"))
    (review,) = review.all()
    assert review.data["publicity_use"] == "improper"
    assert review.data["changes_details"] == "新设售后服务部 a new after-sales department"
    assert "maintained" not in life.events(certificate)  # not before the NC is corrected
    life.correct_in_surveillance(
        nc.id,
        root_cause="宣传审核缺失 no review of publicity",
        correction="宣传册已收回重印 brochure withdrawn and reprinted",
        corrective_action="宣传材料发布前审核 publicity reviewed before release",
        evidence="新宣传册.pdf",
        note="新宣传册使用四星标志 new brochure shows four stars",
    )
    assert life.events(certificate)[-1] == "maintained"


def test_a_problem_found_without_a_nonconformity_is_refused_at_submit(life):
    certificate, start = to_the_review(life)
    with pytest.raises(FormValidationError) as refused:
        life.surveil(start, review={**IMPROPER_PUBLICITY, "nonconformities": []})
    assert "nonconformities" in refused.value.errors
    with pytest.raises(FormValidationError) as refused:  # c: a change is described
        life.complete_in(
            "surveillance",
            "Task_ReviewChangesAndMarkUse",
            life.people.leader,
            {**NOTHING_FOUND_REVIEW, "organisation_changes": "changed"},
        )
    assert "changes_details" in refused.value.errors
