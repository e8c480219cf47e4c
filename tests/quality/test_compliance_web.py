"""Issue 13: the compliance dashboard, its breach lists and the management-review PDF, on the
seeded dataset (domain/compliance/seed.py), for the quality manager, in both languages."""

import subprocess

import pytest

from certflow.dates import china_time_in_utc
from certflow.db import db
from domain.compliance.seed import SEED_TODAY, seed_compliance
from tests.web_support import Web, text, web_fixture  # noqa: F401

ALL_TIME = "from=2020-01-01&to=2026-12-01"


@pytest.fixture
def seeded(web: Web):
    with web.app.app_context():
        seeded = seed_compliance(db.session)
        db.session.commit()
        web.clock.set(china_time_in_utc(SEED_TODAY, 12))
    return seeded


def row_counts(html: str, indicator: str) -> tuple[int, int]:
    """The kept and broken figures of an indicator's row on the dashboard."""
    row = html.split(f'data-indicator="{indicator}"', 1)[1].split("</tr>", 1)[0]
    kept = int(row.split("data-kept>", 1)[1].split("<", 1)[0])
    broken = int(row.split("data-broken>", 1)[1].split("<", 1)[0])
    return kept, broken


def line_with(words: str, needle: str) -> str:
    return next(line for line in words.splitlines() if needle in line)


def test_dashboard_shows_each_indicator_with_its_figures(web, seeded):
    browser = web.browser("quinn")
    page = browser.get(f"/quality/compliance?{ALL_TIME}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert row_counts(html, "surveillance_interval") == (12, 2)
    assert row_counts(html, "complaint_answered") == (1, 2)
    assert row_counts(html, "decision_independent") == (10, 1)
    assert "data-not-measurable" in html  # rotation: no limit in the rules
    assert "/quality/compliance/complaint_answered?from=2020-01-01" in html
    english = browser.get(f"/quality/compliance?{ALL_TIME}&lang=en")
    assert "Complaints answered within 30 days" in text(english)
    assert "Auditor rotation" in text(english)


def test_breach_list_links_each_case_to_its_page(web, seeded):
    browser = web.browser("quinn")
    page = browser.get(f"/quality/compliance/surveillance_interval?{ALL_TIME}&lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    b = seeded.organisations["B"]
    assert html.count(f'href="/cases/{b}"') == 2  # first late, second missing
    assert {k for k in seeded.breaches("surveillance_interval")} == {
        part.split('"', 1)[0] for part in html.split('data-case="')[1:]
    }
    assert "done late" in text(page) and "not done" in text(page)
    case_page = browser.get(f"/cases/{b}")
    assert case_page.status_code == 200
    assert "乙电器维修有限公司" in text(case_page)


def test_filters_period_and_organisation(web, seeded):
    browser = web.browser("quinn")
    b = seeded.organisations["B"]
    html = browser.get(f"/quality/compliance?{ALL_TIME}&organisation={b}").get_data(as_text=True)
    assert row_counts(html, "surveillance_interval") == (0, 2)
    assert row_counts(html, "decision_independent") == (0, 1)
    html = browser.get("/quality/compliance?from=2026-01-01&to=2026-12-01").get_data(as_text=True)
    assert row_counts(html, "complaint_answered") == (1, 2)
    only = browser.get(f"/quality/compliance?{ALL_TIME}&process=complaint").get_data(as_text=True)
    assert 'data-indicator="complaint_answered"' in only
    assert 'data-indicator="surveillance_interval"' not in only


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-01", "from"),
        ("from=2026-12-01&to=2026-01-01", "from"),
        ("process=nonsense", "process"),
        ("organisation=abc", "organisation"),
    ],
)
def test_a_bad_filter_is_a_422_naming_the_field(web, seeded, query, field):
    page = web.browser("quinn").get(f"/quality/compliance?{query}")
    assert page.status_code == 422
    assert f'data-filter-error="{field}"' in page.get_data(as_text=True)
    report = web.browser("quinn").get(f"/quality/report.pdf?{query}")
    assert report.status_code == 422
    assert f'data-filter-error="{field}"' in report.get_data(as_text=True)


def test_unknown_indicator_is_404(web, seeded):
    assert web.browser("quinn").get("/quality/compliance/nonsense").status_code == 404


def test_management_review_pdf_has_the_figures_and_breaches(web, seeded, tmp_path):
    response = web.browser("quinn").get(f"/quality/report.pdf?{ALL_TIME}&lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.get_data())
    words = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Management-review report" in words
    assert "Period: 2020-01-01 to 2026-12-01" in words
    assert line_with(words, "Surveillance within 12 months").split()[-2:] == ["12", "2"]
    assert line_with(words, "Complaints answered within 30 days").split()[-2:] == ["1", "2"]
    assert line_with(words, "Decision maker not on the audit team").split()[-2:] == ["10", "1"]
    assert "乙电器维修有限公司" in words  # a breach's organisation, in the CJK font
    assert "SEED-TS-0002" in words and "SEED-TS-0003" in words  # the complaints broken
    assert "李审查" in words  # the decision maker who was on the team
    assert line_with(words, "Received in the period").split()[-1] == "4"
    assert line_with(words, "Answered within 30 days").split()[-1] == "1"
    chinese = web.browser("quinn").get(f"/quality/report.pdf?{ALL_TIME}")
    pdf.write_bytes(chinese.get_data())
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "管理评审报告" in words


def test_other_roles_are_refused(web, seeded):
    assert web.browser("carl").get("/quality/compliance").status_code in (403, 302)


def test_report_lists_definition_changes_with_their_approval(web, seeded, tmp_path):
    """The versions deployed in the period: review_flow v1 from the repository (by olga_owner,
    comment "web") and, with its approved studio draft, author, approver and reason."""
    from datetime import UTC, datetime

    from domain.models_studio import ProcessDraft

    with web.app.app_context():
        moment = datetime(2026, 1, 5, tzinfo=UTC)
        db.session.add(
            ProcessDraft(
                process_id="web_form_flow",
                main_path="web_form_flow.bpmn",
                files={},
                author="pat_author",
                status="approved",
                reason="增加字段 Add a field",
                reviewer="quinn",
                deployed_version=1,
                created_at=moment,
                updated_at=moment,
            )
        )
        db.session.commit()
    response = web.browser("quinn").get(f"/quality/report.pdf?{ALL_TIME}&lang=en")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.get_data())
    words = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout  # reading order: cell by cell
    flat = " ".join(words.split())  # table cells wrap: compare the words
    section = flat.split("Definition changes", 1)[1].split("Complaints and appeals", 1)[0]
    assert "olga_owner" in section
    assert "Deployed from the repository" in section  # review_flow: no studio draft
    assert "pat_author" in section and "quinn" in section and "Add a field" in section
    later = web.browser("quinn").get("/quality/report.pdf?from=2026-06-01&to=2026-12-01&lang=en")
    pdf.write_bytes(later.get_data())
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "No process definition was deployed in the period." in " ".join(words.split())
