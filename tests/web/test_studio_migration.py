"""The studio's running cases (issue 12) through the web: a deployed version lists the cases of
older versions with the dry run of each (organisation and case number, not ids), migrates the
chosen movable ones after a confirmation, shows the result per case, moves one back; both
languages; process owners and admin only; the audit trail lists each move."""

import re

import pytest

from engine.service import Actor
from tests.migration_support import without_resubmission
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401

RUNNING = "/studio/processes/review_flow/versions/2/running"
MIGRATE = "/studio/processes/review_flow/versions/2/migrate"


@pytest.fixture
def cases(web: Web, tmp_path):
    """APP-M1 (甲公司) at the acceptance review, APP-M2 (乙公司) waiting for documents — the step
    version 2 removes."""
    at_review = web.start("APP-M1", org="A")
    waiting = web.start("APP-M2", org="B")
    with web.app.app_context():
        web.engine.complete_task(
            web.open_task(waiting), actor=actor("mia"), data={"accepted": False, "man_days": 1}
        )
        web.engine.deploy(
            [without_resubmission(tmp_path)], actor=Actor("olga", frozenset()), comment="v2"
        )
    return at_review, waiting


def row(page: str, instance_id: int) -> str:
    match = re.search(rf'<tr data-instance="{instance_id}".*?</tr>', page, re.S)
    assert match, page[-2000:]
    return match.group(0)


def version_of(web: Web, instance_id: int) -> int:
    with web.app.app_context():
        return web.engine.find_instance(instance_id).process_version.version


def lock_of(page: str, instance_id: int) -> str:
    return re.search(rf'value="({instance_id}:\d+)"', page).group(1)


def test_the_dry_run_lists_each_case_by_organisation_and_names_the_removed_step(web, cases):
    at_review, waiting = cases
    olga = web.browser("olga")
    page = text(olga.get(RUNNING))
    movable, refused = row(page, at_review), row(page, waiting)
    assert 'data-dry-run="movable"' in movable
    assert "甲公司 Alpha Ltd" in movable and "APP-M1" in movable and "可迁移" in movable
    assert 'data-dry-run="refused"' in refused and 'name="instance"' not in refused
    assert "乙公司 Beta Ltd" in refused and "APP-M2" in refused
    assert "等待补充材料" in refused and "已被删除" in refused
    english = text(olga.get(RUNNING + "?lang=en"))
    assert "Running cases" in english
    assert "Wait for resubmission" in row(english, waiting)
    assert "is removed in version 2" in row(english, waiting)
    # The studio's list links to the page.
    assert RUNNING in text(olga.get("/studio"))


def test_the_chosen_case_moves_after_confirmation_and_moves_back(web, cases):
    at_review, waiting = cases
    olga = web.browser("olga")
    value = lock_of(text(olga.get(RUNNING)), at_review)
    unconfirmed = olga.post(MIGRATE, {"instance": value})
    assert unconfirmed.status_code == 422
    assert "请确认" in text(unconfirmed)
    assert version_of(web, at_review) == 1
    # A refused case cannot be slipped in: the engine refuses it, the other still moves.
    response = olga.post(MIGRATE, {"instance": [value, f"{waiting}:1"], "confirm": "yes"})
    assert response.status_code == 200, text(response)[-500:]
    page = text(response)
    results = page.split("data-migration-results")[1].split("</section>")[0]
    assert re.search(rf'<tr data-result="migrated" data-instance="{at_review}"', results)
    assert re.search(rf'<tr data-result="(refused|conflict)" data-instance="{waiting}"', results)
    assert (version_of(web, at_review), version_of(web, waiting)) == (2, 1)
    # The same dry run again: the case changed meanwhile → a conflict row, never a 5xx.
    again = olga.post(MIGRATE, {"instance": value, "confirm": "yes"})
    assert again.status_code == 200
    assert re.search(rf'data-result="conflict" data-instance="{at_review}"', text(again))
    # The moved case is listed with its way back.
    page = text(olga.get(RUNNING))
    migrated = page.split("data-migrated-cases")[1]
    assert "APP-M1" in migrated and "data-move-back" in migrated
    lock = re.search(r'name="lock_version" value="(\d+)"', migrated).group(1)
    back = olga.post(f"/studio/instances/{at_review}/move-back", {"lock_version": lock})
    assert back.status_code == 303
    assert version_of(web, at_review) == 1
    # Logged in the quality manager's audit trail with both versions and hashes.
    trail = text(web.browser("quinn").get("/quality/trail"))
    assert "运行中的案件已迁移到其他流程版本" in trail
    assert "review_flow v1" in trail and "→ v2" in trail


def test_only_process_owners_and_admin_move_cases(web, cases):
    at_review, _ = cases
    assert web.browser("ada").get(RUNNING).status_code == 200
    for username in ("quinn", "mia", "carl"):
        browser = web.browser(username)
        assert browser.get(RUNNING).status_code == 403, username
        chosen = {"instance": f"{at_review}:1", "confirm": "yes"}
        assert browser.post(MIGRATE, chosen).status_code == 403
    assert version_of(web, at_review) == 1
    olga = web.browser("olga")
    assert olga.get("/studio/processes/review_flow/versions/9/running").status_code == 404
    assert olga.post("/studio/instances/999999/move-back").status_code == 404


def test_admin_finds_the_running_cases_from_the_studio_list_but_no_drafts_or_sources(web, cases):
    """Admin moves running cases (MIGRATE_INSTANCES): the studio's list, in the menu, leads to a
    version's running cases; it shows no drafts and offers no definition downloads."""
    admin = web.browser("ada")
    home = text(admin.get("/"))
    assert 'href="/studio"' in home
    page = text(admin.get("/studio"))
    assert 'data-process="review_flow"' in page
    assert f'href="{RUNNING}"' in page
    assert "data-studio-drafts" not in page and "No open drafts" not in page
    assert ".bpmn" not in page and "New draft" not in page and "新建草稿" not in page
    owner = text(web.browser("olga").get("/studio"))
    assert f'href="{RUNNING}"' in owner and "/versions/2.bpmn" in owner


def test_the_running_cases_are_read_a_page_at_a_time(web, cases, monkeypatch):
    """Each dry run loads a case and tries the move on a copy: a version with thousands of
    running cases is checked a page at a time (here one case a page)."""
    import webapp.studio_migration as page_module

    at_review, waiting = cases
    monkeypatch.setattr(page_module, "PAGE_SIZE", 1)
    olga = web.browser("olga")
    first = text(olga.get(RUNNING))
    assert f'data-instance="{at_review}"' in first and f'data-instance="{waiting}"' not in first
    assert 'data-running-total="2"' in first and "第 1 页，共 2 页" in first
    assert f'href="{RUNNING}?page=2"' in first
    second = text(olga.get(RUNNING + "?page=2&lang=en"))
    assert f'data-instance="{waiting}"' in second and f'data-instance="{at_review}"' not in second
    assert "page 2 of 2" in second
    assert f'data-instance="{waiting}"' in text(olga.get(RUNNING + "?page=99"))  # the last page
