"""The `certflow` command line, run in-process against a real SQLite file."""

import re
import sqlite3
import stat

import pytest
from click.testing import CliRunner

from certflow.roles import ROLES
from cli import main
from domain.demo import DEMO_ORGANISATION
from tests.helpers import FIXTURES, registered
from tests.paths import ROOT


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    db_file = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("CERTFLOW_DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("CERTFLOW_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CERTFLOW_CLOCK", "simulated")
    monkeypatch.delenv("CERTFLOW_SCHEDULER", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    invoke.db_file = db_file
    invoke.instance = tmp_path / "instance"
    return invoke


def test_validate_reports_file_line_element_and_exits_1(cli):
    bad = FIXTURES / "invalid" / "names"
    result = cli("validate", str(bad))
    assert result.exit_code == 1
    *lines, summary = [line for line in result.output.splitlines() if line]
    assert lines and summary == f"{len(lines)} problem(s)"
    for line in lines:
        file, lineno, element, message = line.split(":", 3)
        assert file.endswith(".bpmn") and int(lineno) > 0 and element.strip() and message.strip()


def test_validate_accepts_the_repository_processes(cli):
    result = cli("validate", str(ROOT / "processes"))
    assert result.exit_code == 0, result.output


def test_init_creates_and_upgrades_without_losing_data(cli):
    assert cli("init").exit_code == 0
    assert cli("init", "--demo").exit_code == 0
    logins = cli.instance / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert len(logins.read_text().splitlines()) == len(ROLES)
    assert cli("init", "--demo").exit_code == 0  # idempotent: no duplicate users
    with sqlite3.connect(cli.db_file) as conn:
        users = conn.execute("select username, roles_text from user_account").fetchall()
        revision = conn.execute("select version_num from alembic_version").fetchone()[0]
        linked = conn.execute(
            "select o.uscc from user_account u join organisation o on o.id = u.organisation_id"
            " where u.username = 'demo_client'"
        ).fetchall()
        organisations = conn.execute("select count(*) from organisation").fetchone()[0]
    assert len(users) == len(ROLES)
    assert ("demo_scheduler", "scheduler") in users
    assert revision == head_revision()
    # The demo client can apply: it belongs to the demo organisation, made once.
    assert linked == [(DEMO_ORGANISATION["uscc"],)] and organisations == 1


def test_demo_users_have_one_plain_name_each(cli):
    """Issue 10: the demo users' names are shown in headers, lists and documents — one person's
    name each, never "审查组长 Team leader (demo)"; the auditors' HR records carry the same."""
    assert cli("init", "--demo").exit_code == 0
    with sqlite3.connect(cli.db_file) as conn:
        names = dict(conn.execute("select username, display_name from user_account"))
        auditors = conn.execute(
            "select u.display_name, a.name from auditor a join user_account u on u.id = a.user_id"
        ).fetchall()
    assert len(names) == len(ROLES) and len(set(names.values())) == len(ROLES)
    for username, name in names.items():
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name), (username, name)
    assert names["demo_team_leader"] == "张组长"
    assert len(auditors) == 3 and all(user == hr for user, hr in auditors)


def test_deploy_token_and_clock(cli):
    assert cli("init", "--demo").exit_code == 0
    with registered("test_after_timer", lambda params, ctx: {"ok": True}):
        result = cli("deploy", str(FIXTURES / "timers"), "--comment", "first", "--user", "olga")
        assert result.exit_code == 0, result.output
        assert "deployed timer_flow v1" in result.output
        assert "unchanged timer_flow" in cli("deploy", str(FIXTURES / "timers")).output

    bad = cli("deploy", str(FIXTURES / "invalid" / "names"))
    assert bad.exit_code == 1 and "nothing deployed" in bad.output

    token = cli("token", "demo_admin").output.strip()
    assert token.startswith("cf_")
    with sqlite3.connect(cli.db_file) as conn:
        hashes = [row[0] for row in conn.execute("select token_hash from api_token")]
    assert token not in hashes and len(hashes) == 1

    assert "(simulated)" in cli("clock", "show").output
    assert "2027-03-01T00:00:00+00:00" in cli("clock", "set", "2027-03-01T08:00:00+08:00").output
    assert "2027-03-31T00:00:00+00:00" in cli("clock", "advance", "P30D").output
    assert cli("clock", "set", "2027-03-01T08:00:00").exit_code != 0  # no offset
    assert cli("clock", "advance", "30 days").exit_code != 0


def test_clock_cannot_be_set_when_real(cli, monkeypatch):
    monkeypatch.setenv("CERTFLOW_CLOCK", "real")
    cli("init")
    result = cli("clock", "set", "2027-03-01T00:00:00+00:00")
    assert result.exit_code != 0 and "the clock is real" in result.output


def test_init_upgrades_an_older_schema_keeping_its_data(cli):
    from flask_migrate import upgrade

    from cli.main import _create_app

    app = _create_app()
    with app.app_context():
        upgrade(revision="0001_engine_core")
    with sqlite3.connect(cli.db_file) as conn:
        conn.execute(
            "insert into user_account (username, display_name, password_hash, roles_text, active,"
            " created_at) values ('kept', 'Kept User', 'x', 'market', 1, '2026-01-01 00:00:00')"
        )
    assert cli("init").exit_code == 0
    with sqlite3.connect(cli.db_file) as conn:
        revision = conn.execute("select version_num from alembic_version").fetchone()[0]
        kept = conn.execute("select username, organisation_id from user_account").fetchall()
    assert revision == head_revision()
    assert kept == [("kept", None)]


@pytest.mark.parametrize("command", ["validate", "deploy"])
def test_malformed_definitions_are_reported_by_validate_and_deploy(cli, command):
    # Issue 9 item 11: DOCTYPE/entities, unknown extensions and forms outside the folder give
    # `file:line: element-id: message` lines and exit 1; deploy stores nothing.
    if command == "deploy":
        assert cli("init").exit_code == 0
    invalid = FIXTURES / "invalid"
    paths = [str(invalid / name) for name in ("doctype", "extensions", "form_paths")]
    result = cli(command, *paths)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(str(invalid))]
    assert len(lines) == 9, result.output
    for line in lines:
        file, lineno, element, message = line.split(":", 3)
        assert file.endswith(".bpmn") and int(lineno) > 0 and element.strip() and message.strip()
    assert "Traceback" not in result.output
    if command == "deploy":
        with sqlite3.connect(cli.db_file) as conn:
            assert conn.execute("select count(*) from process_version").fetchone()[0] == 0
