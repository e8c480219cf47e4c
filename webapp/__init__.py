"""The Flask application factory."""

import importlib
from pathlib import Path
from typing import Any

from flask import Flask

from certflow import models as _account_models  # noqa: F401  (tables for Alembic)
from certflow.clock import Clock, RealClock, SimulatedClock
from certflow.config import resolve
from certflow.db import configure_sqlite, db, migrate
from certflow.logs import configure_logging
from certflow.metrics import WORKFLOW_LOADS
from certflow.settings import (
    EXTENSION_KEY,
    flask_config,
    load_settings,
    overrides_from_config,
)
from domain import models as _domain_models  # noqa: F401
from domain.formats import form_format_checker
from engine.script_limits import ScriptLimits
from engine.service import WorkflowEngine  # registers the engine's tables too
from engine.workflow_cache import WorkflowCache
from webapp import models as _web_models  # noqa: F401
from webapp.runtime import get_clock, get_engine, get_settings  # noqa: F401 (re-exported)

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """The app; `config` overrides settings under their app-config keys (certflow/settings.py)
    and sets Flask's own keys. A bad setting stops the start with the variable's name."""
    overrides = overrides_from_config(config or {})
    if instance_path:
        overrides["instance_path"] = instance_path
    settings = load_settings(overrides)
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(settings.instance_path) if settings.instance_path else None,
    )
    settings = resolve(settings, app.instance_path)
    app.extensions[EXTENSION_KEY] = settings
    app.config.from_mapping(flask_config(settings))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    import handlers  # noqa: F401  (registers every handler module)

    # Deployment-specific handler modules (CERTFLOW_EXTRA_HANDLERS), e.g. a CB's own
    # integrations; imported once, registering like the built-in ones.
    for module in settings.extra_handlers:
        importlib.import_module(module)
    from handlers.registry import HOOKS, REGISTRY
    from webapp.incident_repair import register_repair_hooks

    register_repair_hooks(HOOKS)
    configure_logging(settings.log_format)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    clock: Clock = (
        SimulatedClock(lambda: db.session) if settings.clock == "simulated" else RealClock()
    )
    app.extensions["certflow.clock"] = clock
    app.extensions["certflow.engine"] = WorkflowEngine(
        lambda: db.session,
        clock,
        REGISTRY,
        hooks=HOOKS,
        format_checker=lambda: form_format_checker(db.session),
        settings=get_settings,
        script_limits=ScriptLimits.from_settings(settings),
        workflow_cache=WorkflowCache(
            settings.workflow_cache_size,
            verify=app.testing,  # the tests compare every kept workflow with its restored state
            counted=lambda kept: WORKFLOW_LOADS.labels("kept" if kept else "restored").inc(),
        ),
    )

    from webapp.api import bp as api_bp
    from webapp.main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(api_bp)

    # The web pages (issue 4): security, languages, sign-in, then one blueprint per area.
    from webapp.admin import bp as admin_bp
    from webapp.auth import init_auth
    from webapp.cases import bp as cases_bp
    from webapp.conflicts import init_conflicts
    from webapp.i18n import init_i18n
    from webapp.inbox import bp as inbox_bp
    from webapp.instances import bp as instances_bp
    from webapp.layout import init_layout
    from webapp.process_texts import init_process_texts
    from webapp.registry import bp as registry_bp
    from webapp.security import exempt_api, init_security
    from webapp.tasks import bp as tasks_bp
    from webapp.transport import init_transport

    importlib.import_module("webapp.observability").init_observability(app, HOOKS)  # issue 16
    app.register_blueprint(importlib.import_module("webapp.ops").bp)
    init_security(app)
    init_transport(app)
    init_conflicts(app)
    exempt_api(api_bp)
    init_i18n(app)
    init_process_texts(app)
    init_auth(app)
    init_layout(app)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(instances_bp)
    app.register_blueprint(importlib.import_module("webapp.incident_repair").bp)  # issue 10
    app.register_blueprint(importlib.import_module("webapp.incident_list").bp)  # issue 10
    importlib.import_module("webapp.blocked").init_blocked(app)
    app.register_blueprint(admin_bp)
    app.register_blueprint(registry_bp)  # public, no sign-in
    app.register_blueprint(importlib.import_module("webapp.complaints").bp)
    # Client self-service (issue 10): sign-up, link requests, the client's home (client_changes
    # adds "apply for a change" to the home's blueprint, issue 15).
    app.register_blueprint(importlib.import_module("webapp.hr_auditors").bp)
    app.register_blueprint(importlib.import_module("webapp.programme_pages").bp)
    app.register_blueprint(importlib.import_module("webapp.audit_team_pages").bp)
    app.register_blueprint(importlib.import_module("webapp.fees").bp)  # R-9.5.1e
    importlib.import_module("webapp.mark_artwork")  # adds the mark artwork to the home
    for module in ("webapp.signup", "webapp.link_requests", "webapp.client_changes"):
        app.register_blueprint(importlib.import_module(module).bp)
    # The process-owner studio (issue 12); studio_review and studio_compare add pages to its bp.
    importlib.import_module("webapp.studio_compare")
    importlib.import_module("webapp.studio_forms")
    importlib.import_module("webapp.studio_form_source")
    importlib.import_module("webapp.studio_decisions")
    importlib.import_module("webapp.studio_migration")
    importlib.import_module("webapp.studio_panel")
    app.register_blueprint(importlib.import_module("webapp.studio_review").bp)
    # The quality manager's workspace (issue 13): every section module of webapp/quality.
    app.register_blueprint(importlib.import_module("webapp.quality").load_sections())

    if settings.scheduler:
        from scheduler import start_in_process

        start_in_process(app)
    return app
