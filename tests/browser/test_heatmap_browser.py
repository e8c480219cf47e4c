"""Issue 13 in the browser: the heatmap of review_flow draws the deployed diagram with the
vendored bpmn-js, puts on each completed task an overlay with its count, and the colour class
of a task follows the duration / frequency switch without reloading.

Its own app and database (like test_compliance_browser.py), so that the counts are exact
whatever the other browser tests complete: two reviews (3 h and 4 h) and one contract (5 h).
Duration quartiles: review 2, contract 4; frequency: review 4, contract 2 (domain/heat.py)."""

from collections.abc import Iterator
from datetime import timedelta
from functools import partial

import pytest
from werkzeug.security import generate_password_hash

from certflow.dates import china_date
from tests.browser.conftest import served
from tests.conftest import START_TIME, make_app
from tests.helpers import OWNER, REVIEW_FLOW
from tests.web_support import PASSWORD, Web, actor, add_users

pytestmark = pytest.mark.browser


def _run_cases(web: Web) -> None:
    first, second = (web.start(f"HEAT-{n}", org="A") for n in (1, 2))
    web.advance(timedelta(hours=3))
    web.to_contract(first)
    web.advance(timedelta(hours=1))
    web.to_contract(second)
    web.advance(timedelta(hours=4))
    with web.app.app_context():
        signed = {"signed_on": china_date(web.now()).isoformat(), "signatory": "王芳"}
        web.engine.complete_task(web.open_task(first), actor=actor("carl"), data=signed)


@pytest.fixture(scope="module")
def heat_url(tmp_path_factory) -> Iterator[str]:
    from flask_migrate import upgrade

    from certflow.db import db
    from tests.factories import make_organisation

    root = tmp_path_factory.mktemp("heatmap-live")
    app = make_app(f"sqlite:///{root / 'heatmap.sqlite3'}", root / "instance", TESTING=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "certflow.models.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        with app.app_context():
            upgrade()
            app.extensions["certflow.clock"].set(START_TIME)
            org_a = make_organisation(db.session, START_TIME, name="甲公司 Alpha Ltd")
            org_b = make_organisation(
                db.session, START_TIME, name="乙公司 Beta Ltd", uscc="91110000MA00000002"
            )
            organisations = {"A": org_a.id, "B": org_b.id}
            add_users(organisations)
            app.extensions["certflow.engine"].deploy([REVIEW_FLOW], actor=OWNER, comment="heat")
            db.session.commit()
        _run_cases(Web(app, organisations))
    with served(app, "heatmap-live") as url:
        yield url


def test_overlays_show_counts_and_the_switch_recolours(page, heat_url):
    page.goto(f"{heat_url}/login")
    page.fill("#username", "quinn")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)

    page.goto(f"{heat_url}/quality?lang=en")
    page.click("text=Heatmap")
    page.wait_for_url("**/quality/heatmap")
    page.click("[data-heatmap-processes] a")
    page.wait_for_url("**/quality/heatmap/review_flow")
    page.wait_for_selector("[data-heatmap][data-diagram-ready=true]")
    assert page.get_attribute("[data-heatmap]", "data-overlays") == "2"
    review = page.locator('.heat-badge[data-heat-element="Task_Review"]')
    assert review.locator("[data-heat-count]").inner_text() == "2×"
    assert "median 3.5 h" in review.inner_text()
    contract = page.locator('.heat-badge[data-heat-element="Task_SignContract"]')
    assert contract.locator("[data-heat-count]").inner_text() == "1×"

    shape = page.locator('.djs-element[data-element-id="Task_Review"]')
    assert "cf-heat-2" in shape.get_attribute("class")
    page.check("[data-heat-switch] input[value=frequency]")
    page.wait_for_selector("[data-heatmap][data-measure=frequency]")
    classes = shape.get_attribute("class")
    assert "cf-heat-4" in classes and "cf-heat-2" not in classes
    other = page.locator('.djs-element[data-element-id="Task_SignContract"]')
    assert "cf-heat-2" in other.get_attribute("class")
    page.check("[data-heat-switch] input[value=duration]")
    assert "cf-heat-2" in shape.get_attribute("class")
