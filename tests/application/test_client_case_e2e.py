"""A certification a client started for its own organisation (issue 10, R-11) runs to its
certificate like any other: the instance is bound to the organisation from its start, the
application confirms that binding (no second organisation), and the client's tasks (application,
contract, NC answers) are visible to it all along — SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from certflow.db import db
from certflow.models import User
from domain.models import Application, CaseBinding, Certificate, Organisation
from engine.service import TaskFilter
from tests.certification_case import Case, deploy_everything, make_people, one_nc, through_onsite
from tests.factories import make_organisation
from webapp.access import Viewer, task_scope


@pytest.fixture
def case(engine, clock, tmp_path):
    deploy_everything(engine)
    people = make_people(clock.now())
    organisation = make_organisation(db.session, clock.now(), name="旧名称 old name", sites=0)
    client = db.session.scalars(select(User).where(User.username == "wang_client")).one()
    client.organisation_id = organisation.id  # signed up: the client has its organisation
    db.session.commit()
    return Case(engine, clock, people, tmp_path / "uploads")


def client_sees(case: Case, element_id: str) -> bool:
    client = db.session.scalars(select(User).where(User.username == "wang_client")).one()
    visible = case.engine.list_tasks(
        TaskFilter(
            state="open",
            visible_to=task_scope(Viewer.of(client)),
            instance_ids=(case.instance_id,),
        )
    )
    return [task.element_id for task in visible].count(element_id) == 1


def test_a_client_started_case_is_the_organisations_from_its_start(case):
    case.instance_id = case.engine.start("certification", actor=case.people.client).id
    binding = db.session.scalars(select(CaseBinding)).one()
    assert binding.instance_id == case.instance_id
    assert client_sees(case, "Task_SubmitApplication")  # at once, before any application
    case.submit_application()
    organisation = db.session.get(Organisation, binding.organisation_id)
    assert organisation.name == "福州优服电器有限公司"  # updated from the application
    assert db.session.scalar(select(func.count(Organisation.id))) == 1
    application = db.session.scalars(select(Application)).one()
    assert application.organisation_id == organisation.id
    assert case.instance().business_key == application.number


def test_a_client_started_case_reaches_its_certificate_for_the_bound_organisation(case):
    through_onsite(case, points_lost=80, nonconformities=one_nc())  # case.apply: a bound start
    binding = db.session.scalars(select(CaseBinding)).one()
    assert binding.instance_id == case.instance_id
    assert client_sees(case, "Task_ConfirmReportReceipt")
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)
    assert case.instance().status == "completed"
    application = db.session.scalars(select(Application)).one()
    certificate = db.session.scalars(select(Certificate)).one()
    assert application.organisation_id == certificate.organisation_id == binding.organisation_id
    assert application.status == "certified" and certificate.status == "valid"
    assert db.session.scalar(select(func.count(Organisation.id))) == 1
