"""`certflow init --demo` (README "Run"): the demo client's login is no dead end. It belongs to
the demo organisation (a client not linked to one sees nothing, R-11), whose home offers the
application, and applying opens the application form of the organisation's new case (R-6.1)."""

from functools import partial

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from certflow.accounts import ensure_demo_users
from certflow.db import db
from domain.demo import DEMO_ORGANISATION, ensure_demo_organisation
from domain.models_clients import CaseBinding
from engine.models import HumanTask
from tests.certification_case import deploy_everything
from tests.web_support import Browser, text


def test_the_demo_client_applies_for_the_demo_organisation(app, tmp_path, monkeypatch):
    monkeypatch.setattr(  # 15 demo users: a quick hash, as the sign-up tests do
        "certflow.models.generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1"),
    )
    logins = tmp_path / "demo-logins.txt"
    with app.app_context():
        deploy_everything(app.extensions["certflow.engine"])
        now = app.extensions["certflow.clock"].now()
        ensure_demo_users(db.session, now, logins)
        organisation = ensure_demo_organisation(db.session, now)
        assert organisation is not None and organisation.uscc == DEMO_ORGANISATION["uscc"]
        assert ensure_demo_organisation(db.session, now) is None  # linked already: kept
        db.session.commit()
        organisation_id, name = organisation.id, organisation.name
    password = dict(line.split() for line in logins.read_text().splitlines())["demo_client"]

    browser = Browser(app)
    assert browser.login("demo_client", password).status_code == 302
    home = text(browser.get("/home"))
    assert name in home and 'id="apply-button"' in home
    answer = browser.post("/home/apply")
    assert answer.status_code == 303 and "/tasks/" in answer.headers["Location"]
    task_id = answer.headers["Location"].rsplit("/tasks/", 1)[1].split("?")[0]
    with app.app_context():
        task = db.session.get(HumanTask, task_id)
        assert task.element_id == "Task_SubmitApplication"
        binding = db.session.scalars(
            select(CaseBinding).where(CaseBinding.instance_id == task.instance_id)
        ).one()
        assert binding.organisation_id == organisation_id
    form = text(browser.get(f"/tasks/{task_id}"))
    assert name in form  # the application form starts from the organisation's data
