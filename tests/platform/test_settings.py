"""The one typed settings object (certflow/settings.py): environment, overrides, refusals."""

from pathlib import Path

import pytest

from certflow.config import load_config
from certflow.settings import (
    CONFIG_KEYS,
    EXTENSION_KEY,
    Settings,
    SettingsError,
    env_name,
    load_settings,
)
from tests.paths import ROOT


@pytest.fixture
def clean_env(monkeypatch):
    """No CERTFLOW_* setting from the machine running the tests leaks into these checks."""
    import os

    for name in list(os.environ):
        if name.startswith("CERTFLOW_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _app(tmp_path, **config):
    from webapp import create_app

    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'settings.sqlite3'}",
        **config,
    }
    return create_app(settings, instance_path=str(tmp_path / "instance"))


def test_every_setting_is_described_and_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for field, info in Settings.model_fields.items():
        assert info.description, field
        assert f"`{env_name(field)}`" in readme, f"{env_name(field)} missing from README"


def test_the_defaults_are_the_documented_ones(clean_env):
    clean_env.setenv("CERTFLOW_REQUIRE_POSTGRES", "1")  # the test suite's own variables pass
    settings = load_settings()
    assert settings.clock == "real" and settings.scheduler is False
    assert (settings.sweep_seconds, settings.max_request_mb, settings.trust_proxy) == (10, 100, 0)
    assert (settings.script_timeout_seconds, settings.script_memory_mb) == (2.0, 64.0)
    assert settings.extra_handlers == () and settings.public_url is None


def test_the_app_builds_the_settings_once_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("CERTFLOW_NC_RESPONSE_DAYS", "12")
    clean_env.setenv("CERTFLOW_EXTRA_HANDLERS", " tests.helpers ,")
    app = _app(tmp_path)
    settings = app.extensions[EXTENSION_KEY]
    assert settings.nc_response_days == 12
    assert settings.extra_handlers == ("tests.helpers",)
    # Code that still reads app.config sees the same values under the keys it always used.
    assert app.config["NC_RESPONSE_DAYS"] == 12
    assert app.config["MAX_CONTENT_LENGTH"] == 100 * 1024 * 1024
    assert settings.instance_path == Path(app.instance_path)
    assert (Path(app.instance_path) / "secret_key").is_file()  # generated, never in the repo


def test_config_overrides_win_over_the_environment(clean_env, tmp_path):
    clean_env.setenv("CERTFLOW_CLOCK", "real")
    clean_env.setenv("CERTFLOW_SUSPENSION_MAX_MONTHS", "5")
    app = _app(tmp_path, CERTFLOW_CLOCK="simulated", SUSPENSION_MAX_MONTHS=3, SECRET_KEY="k")
    settings = app.extensions[EXTENSION_KEY]
    assert (settings.clock, settings.suspension_max_months) == ("simulated", 3)
    assert app.extensions["certflow.clock"].simulated
    assert settings.secret_key.get_secret_value() == app.config["SECRET_KEY"] == "k"
    assert not (Path(app.instance_path) / "secret_key").exists()


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("CERTFLOW_CLOCK", "simulate", "'real' or 'simulated'"),
        ("CERTFLOW_SCHEDULER", "maybe", "boolean"),
        ("CERTFLOW_SWEEP_SECONDS", "0", "greater than 0"),
        ("CERTFLOW_TRUST_PROXY", "11", "less than or equal to 10"),
        ("CERTFLOW_MAX_REQUEST_MB", "-1", "greater than 0"),
        ("CERTFLOW_SCRIPT_MEMORY_MB", "nan", "greater than 0"),
        ("CERTFLOW_NC_RESPONSE_DAYS", "0", "greater than or equal to 1"),
        ("CERTFLOW_SUSPENSION_MAX_MONTHS", "7", "less than or equal to 6"),
        ("CERTFLOW_PUBLIC_URL", "cert.example.cn", "http:// or https://"),
        ("CERTFLOW_EXTRA_HANDLERS", "my handlers", "not a module name"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(
    clean_env, tmp_path, variable, value, rule
):
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"{variable}: .*{rule}.*, not '{value}'"):
        _app(tmp_path)


def test_a_bad_override_is_refused_like_a_bad_variable(clean_env, tmp_path):
    with pytest.raises(SettingsError, match="CERTFLOW_NC_REMINDER_DAYS_BEFORE"):
        _app(tmp_path, NC_REMINDER_DAYS_BEFORE=True)  # a yes/no is not a number of days


def test_postgresql_urls_use_psycopg_3(clean_env, tmp_path):
    clean_env.setenv("CERTFLOW_DATABASE_URL", "postgresql://certflow@db.example/certflow")
    config = load_config(str(tmp_path / "instance"))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://certflow@db.example/certflow"


def test_every_field_has_one_config_key():
    assert set(CONFIG_KEYS) == set(Settings.model_fields)
    assert len(set(CONFIG_KEYS.values())) == len(CONFIG_KEYS)


def test_script_limits_agree_with_the_settings(clean_env):
    from engine.script_limits import ScriptLimits

    clean_env.setenv("CERTFLOW_SCRIPT_TIMEOUT_SECONDS", "0.25")
    clean_env.setenv("CERTFLOW_SCRIPT_MEMORY_MB", "16")
    assert ScriptLimits.from_settings(load_settings()) == ScriptLimits.from_env()
    assert ScriptLimits.from_settings(load_settings()) == ScriptLimits(0.25, 16)
