"""Issue 13: the heatmap of a process (/quality/heatmap/<process>) — per user task the number
completed in the period, its duration (median, nearest-rank p90), its colour quartile for each
measure (domain/heat.py), and its waiting time (created → first claim) and working time
(claim → completion) with a role filter — from review flows run by the real engine on the
simulated clock."""

import json
from datetime import timedelta

import pytest

from certflow.dates import china_date
from domain.heat import heat_levels
from engine.query_figures import FigureFilter
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401


def complete(web: Web, instance_id: int, who: str, data: dict) -> None:
    with web.app.app_context():
        web.engine.complete_task(web.open_task(instance_id), actor=actor(who), data=data)


@pytest.fixture
def ran(web: Web):
    """Two review flows started together. The first review is claimed after 1 h and completed
    after 3 h; the second completed straight from the queue after 4 h. The first case's
    contract (created at 3 h) is claimed at 5 h and signed at 8 h."""
    start = web.now()
    first, second = (web.start(f"APP-{n}", org="A") for n in (1, 2))
    web.advance(timedelta(hours=1))
    web.claim(web.open_task(first), "mia")
    web.advance(timedelta(hours=2))
    complete(web, first, "mia", {"accepted": True, "man_days": 2.0})
    web.advance(timedelta(hours=1))
    complete(web, second, "mia", {"accepted": True, "man_days": 2.0})
    web.advance(timedelta(hours=1))
    web.claim(web.open_task(first), "carl")
    web.advance(timedelta(hours=3))
    signed = {"signed_on": china_date(web.now()).isoformat(), "signatory": "王芳"}
    complete(web, first, "carl", signed)
    return start


def period(start) -> str:
    day = china_date(start)
    return f"from={day - timedelta(days=1)}&to={day + timedelta(days=7)}"


def test_heat_levels_are_quartiles_with_ties_together():
    assert heat_levels({"a": 3.5, "b": 5.0}) == {"a": 2, "b": 4}
    assert heat_levels({"a": 1, "b": 2, "c": 2, "d": 9}) == {"a": 1, "b": 3, "c": 3, "d": 4}
    assert heat_levels({"only": 7}) == {"only": 4}


def test_waiting_and_working_time_per_task(web, ran):
    start = ran
    with web.app.app_context():
        flt = FigureFilter(start - timedelta(days=1), start + timedelta(days=30), "review_flow")
        times = {t.element_id: t for t in web.engine.task_times(flt)}
        market = web.engine.task_times(flt, "market")
        on_version_1 = web.engine.task_times(
            FigureFilter(flt.start, flt.end, "review_flow", version=1)
        )
        on_version_2 = web.engine.task_times(
            FigureFilter(flt.start, flt.end, "review_flow", version=2)
        )
    review, contract = times["Task_Review"], times["Task_SignContract"]
    # Review: waited 1 h then worked 2 h; the other waited 4 h and was never taken.
    assert (review.role, review.completed, review.claimed) == ("market", 2, 1)
    assert (review.waiting_median_hours, review.waiting_p90_hours) == (2.5, 4.0)
    assert (review.working_median_hours, review.working_p90_hours) == (2.0, 2.0)
    assert (contract.completed, contract.claimed) == (1, 1)
    assert (contract.waiting_median_hours, contract.working_median_hours) == (2.0, 3.0)
    assert [t.element_id for t in market] == ["Task_Review"]
    assert len(on_version_1) == 2
    assert on_version_2 == []


def test_heatmap_page_shows_counts_durations_and_levels(web, ran):
    page = web.browser("quinn").get(f"/quality/heatmap/review_flow?{period(ran)}&lang=en")
    assert page.status_code == 200, text(page)
    html = page.get_data(as_text=True)
    data = html.split('id="heatmap-data">', 1)[1].split("</script>", 1)[0]
    overlays = {o["id"]: o for o in json.loads(data)}
    assert overlays["Task_Review"] == {
        "id": "Task_Review",
        "count": 2,
        "median": 3.5,
        "p90": 4.0,
        "duration": 2,
        "frequency": 4,
    }
    assert (overlays["Task_SignContract"]["count"], overlays["Task_SignContract"]["median"]) == (
        1,
        5.0,
    )
    assert overlays["Task_SignContract"]["duration"] == 4
    assert overlays["Task_SignContract"]["frequency"] == 2
    table = html.split('id="heatmap-tasks"', 1)[1].split("</table>", 1)[0]
    review_row = table.split('data-element="Task_Review"', 1)[1].split("</tr>", 1)[0]
    assert [c.split(">", 1)[1].split("<", 1)[0] for c in review_row.split("<td")[1:]][1:] == [
        "2",
        "3.5",
        "4.0",
    ]
    times = html.split('id="heatmap-times"', 1)[1].split("</table>", 1)[0]
    row = times.split('data-element="Task_Review"', 1)[1].split("</tr>", 1)[0]
    assert [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]][2:] == [
        "2",
        "1",
        "2.5",
        "4.0",
        "2.0",
        "2.0",
    ]
    diagram = web.browser("quinn").get("/quality/heatmap/review_flow/1.bpmn")
    assert diagram.status_code == 200
    assert b'id="Task_Review"' in diagram.data


def test_role_filter_and_bad_filters(web, ran):
    quinn = web.browser("quinn")
    market = quinn.get(f"/quality/heatmap/review_flow?{period(ran)}&role=market&lang=en")
    html = market.get_data(as_text=True)
    times = html.split('id="heatmap-times"', 1)[1].split("</table>", 1)[0]
    assert 'data-element="Task_Review"' in times
    assert 'data-element="Task_SignContract"' not in times
    for args, field in (
        ("version=99", "version"),
        ("role=nobody", "role"),
        ("measure=colour", "measure"),
        ("from=2026-13-01", "from"),
    ):
        page = quinn.get(f"/quality/heatmap/review_flow?{args}&lang=en")
        assert page.status_code == 422, args
        assert f'data-filter-error="{field}"' in page.get_data(as_text=True)
    assert quinn.get("/quality/heatmap/no_such_process").status_code == 404
    assert quinn.get("/quality/heatmap/review_flow/99.bpmn").status_code == 404
    zh = web.browser("quinn").get(f"/quality/heatmap/review_flow?{period(ran)}")
    assert zh.status_code == 200
    assert "各任务的等待时间与处理时间" in zh.get_data(as_text=True)
