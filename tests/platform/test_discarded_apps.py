"""A discarded app leaves nothing alive. The suite runs its ~3,250 tests in one process, each with
an app and an engine of its own; whatever outlives a test is walked by every later garbage
collection (and the script budgets deduct that time)."""

import gc
import weakref

from certflow.db import db
from engine.models import HumanTask
from engine.service import Actor
from tests.conftest import START_TIME, clear_database, forget_compiled_statements, make_app
from tests.helpers import OWNER
from tests.web_support import WEB_FORMS

MARKET = Actor("mia", frozenset({"market"}))


def _used_and_disposed(database_url: str, instance_path) -> list[weakref.ref]:
    """An app that deployed and started a process (a test process needing no test handler: the
    browser tests keep theirs registered for the session), claimed its task and rendered a page,
    then disposed of as the `app` fixture does; weak references to what must not outlive it."""
    app = make_app(database_url, instance_path)
    engine = app.extensions["certflow.engine"]
    with app.app_context():
        clear_database()
        app.extensions["certflow.clock"].set(START_TIME)
        engine.deploy([WEB_FORMS], actor=OWNER, comment="discarded")
        instance = engine.start("web_form_flow", actor=MARKET, business_key="FORM-1")
        task = db.session.query(HumanTask).filter_by(instance_id=instance.id).one()
        engine.claim(task.id, actor=MARKET)
        assert app.test_client().get("/login").status_code == 200
        kept = [app, engine, db.engine, db.engine.dialect]
        db.session.remove()
        db.engine.dispose()
    return [weakref.ref(thing) for thing in kept]


def test_a_discarded_app_leaves_no_app_engine_or_dialect_alive(migrated_url, tmp_path):
    references = [
        ref
        for run in range(2)
        for ref in _used_and_disposed(migrated_url, tmp_path / f"instance-{run}")
    ]
    forget_compiled_statements()  # what every test's teardown does (tests/conftest.py)
    # The app's engines are dropped by a weak-key callback during a collection; the engine's own
    # reference cycles go at the next one.
    for _ in range(3):
        gc.collect()
    assert [ref() for ref in references if ref() is not None] == []
