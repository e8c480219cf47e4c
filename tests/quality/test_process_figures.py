"""Issue 13: the process figures of the compliance dashboard (engine/query_figures.py) —
throughput per process and per task (median, nearest-rank p90), volumes per month, overdue
tasks by role — from instances run by the real engine on the simulated clock."""

from datetime import timedelta

import pytest

from certflow.dates import china_date
from engine.query_figures import FigureFilter, percentile
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401


def complete(web: Web, instance_id: int, who: str, data: dict) -> None:
    with web.app.app_context():
        web.engine.complete_task(web.open_task(instance_id), actor=actor(who), data=data)


@pytest.fixture
def ran(web: Web):
    """Three review flows started together: reviews done after 2 h and 4 h, the first contract
    signed 6 h after its review (that case ends after 8 h); the third review still open 6 days
    later, past its 5-day due time."""
    start = web.now()
    first, second, third = (web.start(f"APP-{n}", org="A") for n in (1, 2, 3))
    web.advance(timedelta(hours=2))
    complete(web, first, "mia", {"accepted": True, "man_days": 2.0})
    web.advance(timedelta(hours=2))
    complete(web, second, "mia", {"accepted": True, "man_days": 2.0})
    web.advance(timedelta(hours=4))
    signed = {"signed_on": china_date(web.now()).isoformat(), "signatory": "王芳"}
    complete(web, first, "carl", signed)
    web.advance(timedelta(days=6))
    return start, (first, second, third)


def test_throughput_volumes_and_overdue(web, ran):
    start, _ = ran
    with web.app.app_context():
        flt = FigureFilter(start - timedelta(days=1), start + timedelta(days=30))
        processes = web.engine.process_throughput(flt)
        tasks = {t.element_id: t for t in web.engine.task_throughput(flt)}
        months = web.engine.monthly_volumes(flt)
        overdue = web.engine.overdue_by_role(web.now())
    assert [(p.process_id, p.count, p.median_hours, p.p90_hours) for p in processes] == [
        ("review_flow", 1, 8.0, 8.0)
    ]
    review = tasks["Task_Review"]
    assert (review.count, review.median_hours, review.p90_hours) == (2, 3.0, 4.0)
    contract = tasks["Task_SignContract"]
    assert (contract.count, contract.median_hours, contract.p90_hours) == (1, 6.0, 6.0)
    assert [(m.process_id, m.started, m.finished) for m in months] == [("review_flow", 3, 1)]
    assert overdue == {"market": 1}


def test_filters_by_process_and_instances(web, ran):
    start, (first, second, _) = ran
    with web.app.app_context():
        flt = FigureFilter(start - timedelta(days=1), start + timedelta(days=30), "complaint")
        assert web.engine.task_throughput(flt) == []
        only_second = FigureFilter(flt.start, flt.end, None, (second,))
        (review,) = web.engine.task_throughput(only_second)
        assert (review.count, review.median_hours) == (1, 4.0)
        later = FigureFilter(start + timedelta(days=1), start + timedelta(days=30))
        assert web.engine.process_throughput(later) == []


def test_dashboard_shows_the_figures_as_tables(web, ran):
    start, _ = ran
    day = china_date(start)
    page = web.browser("quinn").get(
        f"/quality/compliance?from={day - timedelta(days=1)}&to={day + timedelta(days=7)}&lang=en"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    after_name = html.split('id="throughput-tasks"', 1)[1].split("Acceptance review", 1)[1]
    cells = [
        c.split(">", 1)[1].split("<", 1)[0]
        for c in after_name.split("</tr>", 1)[0].split("<td")[1:]
    ]
    assert cells == ["2", "3.0", "4.0"]  # completed, median, 90th percentile (hours)
    assert "Market" in text(page) or "市场" in text(page)  # the overdue role, by name


def test_nearest_rank_percentile():
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.9) == 9.0
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([4.0, 2.0], 0.9) == 4.0
