"""Shared test helpers: actors, deploying fixture processes, registering test handlers."""

import threading
from contextlib import contextmanager
from pathlib import Path

from engine.service import Actor
from handlers import handler, unregister
from scenarios.people import discussed_with_client  # noqa: F401 (the tests import it here)

FIXTURES = Path(__file__).parent / "fixtures"
REVIEW_FLOW = FIXTURES / "processes"

MARKET = Actor("mia_market", frozenset({"market"}))
MARKET_2 = Actor("max_market", frozenset({"market"}))
CLIENT = Actor("carl_client", frozenset({"client"}))
ADMIN = Actor("ada_admin", frozenset({"admin"}))
OWNER = Actor("olga_owner", frozenset({"process_owner"}))


@contextmanager
def registered(operator: str, fn):
    """Register `fn` as the handler of `operator` for the duration of the block."""
    handler(operator)(fn)
    try:
        yield fn
    finally:
        unregister(operator)


def record_acceptance(params, ctx):
    return {"application_id": params["application_id"], "man_days": params["man_days"]}


def override_settings(app, **fields):
    """Change rule settings of a running app for a test (validated like settings at start)."""
    from certflow.settings import EXTENSION_KEY, load_settings

    current = app.extensions[EXTENSION_KEY]
    app.extensions[EXTENSION_KEY] = load_settings({**current.model_dump(), **fields})


def unchecked_settings(app, **fields):
    """Like override_settings, without validation: to test the rules' own checks."""
    from certflow.settings import EXTENSION_KEY

    app.extensions[EXTENSION_KEY] = app.extensions[EXTENSION_KEY].model_copy(update=fields)


def handler_context(session, now, *, actor: str = "tester", instance_id: int = 0, **kw):
    """A HandlerContext for calling a handler directly in a unit test (the app's settings)."""
    from flask import current_app

    from handlers.registry import HandlerContext
    from webapp.runtime import get_settings

    keys: list[str] = []
    return HandlerContext(
        session=session,
        now=now,
        instance_id=instance_id,
        process_id=kw.get("process_id", "unit_test"),
        business_key=kw.get("business_key"),
        actor=actor,
        element_id=kw.get("element_id", "Task_UnitTest"),
        set_business_key=keys.append,
        settings=get_settings() if current_app else None,
    )


def run_in_threads(app, *calls):
    """Run each call in its own thread with its own app context (own DB session)."""
    results: list = [None] * len(calls)

    def worker(index, call):
        with app.app_context():
            try:
                results[index] = ("ok", call())
            except Exception as err:  # collected and asserted by the test
                results[index] = ("error", err)

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
