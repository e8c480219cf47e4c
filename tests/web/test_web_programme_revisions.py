"""The audit programme's revisions on the case page and the revision form
(`/cases/<org>/programmes/<id>/revise`, R-7.1.2): refused input is 422 on its field and writes
nothing; a revision is listed with its number, reason, who and what changed; Chinese and
English; only the REVISE_PROGRAMME roles, and only on a case they may see."""

from sqlalchemy import func, select

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Organisation
from domain.models_programme import AuditProgrammeRevision
from tests.factories import make_application, make_programme
from tests.web_support import PASSWORD, text, web_fixture  # noqa: F401


def programme_of_a(web) -> tuple[int, int, dict[str, int]]:
    """Organisation A's contracted application and its programme (revision 1), and a scheduler
    with no part in A's case."""
    with web.app.app_context():
        organisation = db.session.get(Organisation, web.organisations["A"])
        application = make_application(db.session, web.now(), organisation)
        programme_id = make_programme(
            db.session,
            web.now(),
            application,
            by="ada",
            mystery_shopping=True,
            sizing_notes="120 人",
        )
        create_user(
            db.session,
            "sam",
            password=PASSWORD,
            roles={"scheduler"},
            display_name="Sam 调度",
            now=web.now(),
        )
        db.session.commit()
        from domain.models import AuditProgramme

        activities = {a.kind: a.id for a in db.session.get(AuditProgramme, programme_id).activities}
        return organisation.id, programme_id, activities


def revision_count(web) -> int:
    with web.app.app_context():
        return db.session.scalar(select(func.count(AuditProgrammeRevision.id)))


def test_the_scheduler_revises_the_programme_and_the_case_shows_every_revision(web):
    org, programme, activities = programme_of_a(web)
    ada = web.browser("ada")
    url = f"/cases/{org}/programmes/{programme}/revise"
    case_page = text(ada.get(f"/cases/{org}"))
    assert "审查方案" in case_page and "修订 1" in case_page and "方案建立" in case_page
    assert url in case_page

    form = {
        "reason_kind": "scope_complexity",
        "reason": "新增两个服务网点",
        "man_days": "4.5",
        "sizing_notes": "120 人，3 个场所",
        "mystery_shopping": "1",
        f"planned_date_{activities['document_review']}": "2026-03-02",
        f"planned_date_{activities['initial_audit']}": "2026-03-23",
    }
    no_reason = ada.post(url, {**form, "reason": " "})
    assert no_reason.status_code == 422
    assert "7.1.2" in text(no_reason) and 'value="4.5"' in text(no_reason)
    late_review = ada.post(
        url, {**form, f"planned_date_{activities['document_review']}": "2026-03-30"}
    )
    assert late_review.status_code == 422 and "8.1" in text(late_review)
    assert revision_count(web) == 1  # nothing written

    done = ada.post(url, form)
    assert done.status_code == 302, text(done)
    page = text(ada.get(f"/cases/{org}"))
    assert "修订 2" in page and "服务范围与复杂程度" in page and "新增两个服务网点" in page
    assert "3.0" in page and "4.5" in page and "2026-03-23" in page
    english = text(ada.get(f"/cases/{org}?lang=en"))
    assert "Revision 2" in english and "Service scope and complexity" in english
    assert "Man-days" in english and "Initial audit · Planned date" in english
    same_again = ada.post(url, form)  # the page stays in English (?lang=en is remembered)
    assert same_again.status_code == 422
    assert "Nothing in the programme changed." in text(same_again)
    assert revision_count(web) == 2


def test_only_the_revising_roles_on_a_case_they_see(web):
    org, programme, _ = programme_of_a(web)
    url = f"/cases/{org}/programmes/{programme}/revise"
    for username in ("mia", "quinn", "hank", "carl"):
        assert web.browser(username).get(url).status_code == 403, username
    # A scheduler without a part in A's case does not see it.
    assert web.browser("sam").get(url).status_code == 404
    assert web.browser("ada").get(f"/cases/{org}/programmes/999999/revise").status_code == 404
    # The programme is the certification body's planning: not on the client's case page.
    assert "审查方案" not in text(web.browser("carl").get(f"/cases/{org}"))
