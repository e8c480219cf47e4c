"""Issue 16: the case page at data volume sends a number of statements that does not grow with
the case's completed forms (their files come from one query for the forms' versions, not one per
form; the task page lists its instance's files the same way)."""

from sqlalchemy import select

from certflow.db import db
from tests.web_support import Web, page_statements, web_fixture  # noqa: F401


def selects(web: Web, browser, url: str) -> int:
    _, sent = page_statements(web, browser, url)
    return len(
        [s for s in sent if s.lstrip().upper().startswith("SELECT") and "simulated_time" not in s]
    )


def test_case_page_statements_do_not_grow_with_the_completed_forms(web):
    quinn = web.browser("quinn")
    web.to_contract(web.start("APP-A1", org="A"))  # a completed review form
    url = f"/cases/{web.organisations['A']}"
    quinn.get(url)  # warm: form caches
    one = selects(web, quinn, url)
    for number in range(2, 5):  # three more cases of the organisation, each with a form done
        web.to_contract(web.start(f"APP-A{number}", org="A"))
    more = selects(web, quinn, url)
    assert more == one, (one, more)


def add_audit(web: Web, number: int) -> None:
    """An audit of organisation A with a team member, two findings and a nonconformity."""
    from domain.models import (
        Application,
        Audit,
        AuditProgramme,
        Finding,
        Nonconformity,
        Organisation,
    )
    from tests.factories import make_audit, make_auditor

    with web.app.app_context():
        now = web.now()
        organisation = db.session.get(Organisation, web.organisations["A"])
        application = db.session.scalars(
            select(Application).where(Application.organisation_id == organisation.id)
        ).first()
        auditor = make_auditor(db.session, now, name=f"审查员{number}", registration=f"R-{number}")
        audit = make_audit(db.session, now, organisation, application, team=[(auditor, "leader")])
        first = db.session.scalars(select(Audit).order_by(Audit.id)).first()
        if first.id != audit.id:  # audits of one programme (its revisions are listed per programme)
            extra, audit.programme_id = audit.programme_id, first.programme_id
            db.session.flush()
            db.session.delete(db.session.get(AuditProgramme, extra))
        for result in ("conform", "nonconform"):
            db.session.add(
                Finding(
                    audit_id=audit.id,
                    item_code="1.1",
                    method="records",
                    result=result,
                    recorded_by="quinn",
                    recorded_at=now,
                )
            )
        db.session.add(
            Nonconformity(
                audit_id=audit.id, number=f"NC-{number}", item_code="1.1", description="x"
            )
        )
        db.session.commit()


def test_case_page_statements_do_not_grow_with_the_audits(web):
    quinn = web.browser("quinn")
    web.start("APP-A1", org="A")
    add_audit(web, 1)
    url = f"/cases/{web.organisations['A']}"
    quinn.get(url)
    one = selects(web, quinn, url)
    for number in range(2, 5):
        add_audit(web, number)
    page = quinn.get(url).get_data(as_text=True)
    assert page.count("审查员") == 4  # every audit's team is shown
    assert selects(web, quinn, url) == one


def test_case_page_statements_do_not_grow_with_the_processes_of_the_case(web):
    """Each instance of the case comes with its version in the instances' query (issue 16): a
    case's processes (certification, surveillance, recertification, …) are of different
    versions, which cost one more query each when the version was read per instance."""
    quinn = web.browser("quinn")
    web.start("APP-A1", org="A")
    url = f"/cases/{web.organisations['A']}"
    quinn.get(url)
    one = selects(web, quinn, url)
    web.start("FORM-A2", org="A", process="web_form_flow")  # another process, its own version
    page = quinn.get(url).get_data(as_text=True)
    assert page.count('href="/instances/') == 2  # both processes are listed
    assert selects(web, quinn, url) == one


def test_case_page_reads_no_stored_workflow_state(web):
    """The case page lists its instances without their stored workflow state (up to hundreds
    of KB for a running case; the page shows none of it)."""
    quinn = web.browser("quinn")
    web.to_contract(web.start("APP-A1", org="A"))
    _, sent = page_statements(web, quinn, f"/cases/{web.organisations['A']}")
    assert any("FROM process_instance" in s for s in sent)
    assert not [s for s in sent if "state_json" in s]


def test_case_page_lists_documents_without_their_bodies(web):
    """The documents list shows each document's title, kind and date; a body (a whole letter)
    is read when the document is opened, not for the list (issue 16)."""
    from domain.documents import create_document

    quinn = web.browser("quinn")
    with web.app.app_context():
        create_document(
            db.session,
            kind="nc_report",
            title_facts={"reference": "APP-A1"},
            body="正文 " * 2000,
            organisation_id=web.organisations["A"],
            created_by="system",
            now=web.now(),
        )
        db.session.commit()
    url = f"/cases/{web.organisations['A']}"
    page, sent = page_statements(web, quinn, url)
    assert "不符合报告（APP-A1）" in page
    assert any("FROM document" in s for s in sent)
    assert not [s for s in sent if "document.body" in s]


def add_programme(web: Web) -> int:
    """An application of organisation A with its programme (revision 1, by ada), then ended so
    that another may follow (R-7.1.1: one programme per cycle)."""
    from domain.models import Organisation
    from tests.factories import make_application, make_programme

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
        application.status = "terminated"  # its cycle over: the next programme may follow
        db.session.commit()
        return programme_id


def test_case_page_statements_do_not_grow_with_the_programmes(web):
    """Every programme of the case is listed with its revisions and who made them: their
    revisions and names come in one query each, not two per programme (R-7.1.2; issue 16)."""
    quinn = web.browser("quinn")
    add_programme(web)
    url = f"/cases/{web.organisations['A']}"
    quinn.get(url)
    one = selects(web, quinn, url)
    for _ in range(2):
        add_programme(web)
    page = quinn.get(url).get_data(as_text=True)
    assert page.count("data-programme-id=") == 3
    assert page.count('data-revision="1"') == 3  # each programme's first revision
    assert selects(web, quinn, url) == one
