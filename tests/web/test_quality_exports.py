"""The event log exports of the quality workspace (issue 13): XES (IEEE 1849) opened by pm4py
and CSV, one trace per process instance, one event per step of a human task's life, built from
cases run through the real engine; filters by period (when the case started) and process."""

import csv
import io
from datetime import timedelta

import pm4py
import pytest

from tests.web_support import Web, actor, text, web_fixture  # noqa: F401

SIGNED = {"signed_on": "2026-01-10", "signatory": "Carl"}


@pytest.fixture
def dataset(web: Web) -> dict[str, int]:
    """Three review_flow cases on three days and one web_form_flow case:
    APP-1 reviewed, contract claimed and signed (5 events: schedule, complete, schedule,
    assign, complete); APP-2 reviewed (3: schedule, complete, schedule); APP-3 untouched
    (1: schedule)."""
    ids = {"APP-1": web.start("APP-1")}
    web.advance(timedelta(days=1))
    ids["APP-2"] = web.start("APP-2")
    web.advance(timedelta(days=1))
    ids["APP-3"] = web.start("APP-3")
    signing = web.to_contract(ids["APP-1"])
    web.to_contract(ids["APP-2"])
    web.claim(signing, "carl")
    with web.app.app_context():
        web.engine.complete_task(signing, actor=actor("carl"), data=SIGNED)
    ids["FORM-1"] = web.start("FORM-1", process="web_form_flow")
    return ids


def _xes(web: Web, tmp_path, query: str = ""):
    response = web.browser("quinn").get(f"/quality/exports/events.xes{query}")
    assert response.status_code == 200, text(response)
    path = tmp_path / "events.xes"
    path.write_bytes(response.data)
    return pm4py.read_xes(str(path))


def test_pm4py_reads_every_case_and_event_of_the_xes(web: Web, dataset, tmp_path):
    log = _xes(web, tmp_path, "?process=review_flow")
    assert log["case:concept:name"].nunique() == 3
    assert len(log) == 9
    by_case = log.groupby("case:concept:name").size().to_dict()
    assert by_case == {
        f"{dataset['APP-1']} APP-1": 5,
        f"{dataset['APP-2']} APP-2": 3,
        f"{dataset['APP-3']} APP-3": 1,
    }
    first = log[log["case:concept:name"] == f"{dataset['APP-1']} APP-1"]
    assert list(first["concept:name"]) == [
        "受理评审 Acceptance review",
        "受理评审 Acceptance review",
        "签订合同 Sign contract",
        "签订合同 Sign contract",
        "签订合同 Sign contract",
    ]
    assert list(first["lifecycle:transition"]) == [
        "schedule",
        "complete",
        "schedule",
        "assign",
        "complete",
    ]
    assert list(first["org:resource"].fillna("")) == ["", "mia", "", "carl", "carl"]
    assert str(first["time:timestamp"].dt.tz) == "UTC"
    assert first["time:timestamp"].is_monotonic_increasing


def test_the_period_and_process_filters_choose_whole_cases(web: Web, dataset, tmp_path):
    # APP-1 started on 2026-01-05 (China), APP-2 on the 6th, APP-3 and FORM-1 on the 7th.
    log = _xes(web, tmp_path, "?from=2026-01-06&to=2026-01-06")
    assert sorted(log["case:concept:name"].unique()) == [f"{dataset['APP-2']} APP-2"]
    assert len(log) == 3
    log = _xes(web, tmp_path)
    assert log["case:concept:name"].nunique() == 4  # every process
    log = _xes(web, tmp_path, "?process=web_form_flow")
    assert list(log["case:concept:name"].unique()) == [f"{dataset['FORM-1']} FORM-1"]


def test_the_csv_has_one_row_per_event(web: Web, dataset):
    response = web.browser("quinn").get("/quality/exports/events.csv?process=review_flow")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert len(rows) == 9
    assert list(rows[0]) == [
        "case",
        "activity",
        "time",
        "resource",
        "lifecycle",
        "role",
        "process",
        "element",
    ]
    completed = [r for r in rows if r["lifecycle"] == "complete"]
    assert [(r["case"], r["activity"], r["resource"]) for r in completed] == [
        (f"{dataset['APP-1']} APP-1", "受理评审 Acceptance review", "mia"),
        (f"{dataset['APP-1']} APP-1", "签订合同 Sign contract", "carl"),
        (f"{dataset['APP-2']} APP-2", "受理评审 Acceptance review", "mia"),
    ]
    assert all(r["time"].endswith("+00:00") for r in rows)


@pytest.mark.parametrize(
    "query, field",
    [
        ("?from=2026-13-01", "from"),
        ("?from=2026-02-01&to=2026-01-01", "to"),
        ("?process=x", "process"),
    ],
)
def test_bad_filters_are_a_422_with_the_field(web: Web, query, field):
    quinn = web.browser("quinn")
    for url in ("/quality/exports/events.xes", "/quality/exports/events.csv", "/quality/exports"):
        response = quinn.get(url + query)
        assert response.status_code == 422, url
    assert text(quinn.get("/quality/exports/events.csv" + query)).startswith(f"{field}: ")


def test_the_exports_page_in_both_languages(web: Web, dataset):
    quinn = web.browser("quinn")
    page = text(quinn.get("/quality/exports"))
    assert "事件日志导出" in page and "/quality/exports/events.xes" in page
    page = text(quinn.get("/quality/exports?lang=en"))
    assert "Event log exports" in page
