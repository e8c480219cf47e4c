"""One typed settings object for the whole application (pydantic-settings).

Every value certflow reads from its environment is a field of `Settings`, with its default, type,
bounds and purpose. The environment variable is `CERTFLOW_` + the field name in capitals (e.g.
`CERTFLOW_NC_RESPONSE_DAYS`); a bad value is refused at start by `load_settings`, which names the
variable. The app factory builds the object once (`webapp.create_app`) and keeps it in
`app.extensions["certflow.settings"]`.

Tests and embedders override fields through the Flask config mapping given to `create_app`, each
under the one app-config key the application has always read for it (`CONFIG_KEYS`: e.g.
`CERTFLOW_CLOCK`, `SQLALCHEMY_DATABASE_URI`, `NC_RESPONSE_DAYS`); `flask_config` writes the
settings back under those keys for the code that still reads `app.config`.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "CERTFLOW_"
EXTENSION_KEY = "certflow.settings"  # where the app factory keeps the object
REPOSITORY = Path(__file__).resolve().parent.parent
MAX_SUSPENSION_MONTHS = 6  # a suspension lasts at most six months
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable and the rule."""


def _whole_number(value: Any) -> Any:
    # pydantic would read True as 1; a yes/no is never a count of days.
    if isinstance(value, bool):
        raise ValueError("a whole number is required (a yes/no value was given)")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Days = Annotated[WholeNumber, Field(ge=1)]


def _comma_separated(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """Every setting of certflow (README "Configuration"); frozen once built."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", validate_default=True
    )

    # -- where things are ------
    instance_path: Path | None = Field(
        None,
        description="Folder of the SQLite file, the generated secret key, uploads and the demo "
        "logins; default: Flask's instance/ folder beside the code.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; postgresql://user@host/db for PostgreSQL; default: "
        "sqlite:///<instance>/certflow.sqlite3.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs sessions and form tokens; default: generated once into "
        "<instance>/secret_key (mode 0600).",
    )
    processes_dir: Path = Field(
        REPOSITORY / "processes",
        description="The process definitions `certflow deploy` deploys when given no path.",
    )
    extra_handlers: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated modules with more @handler functions, imported at start.",
    )
    public_url: str | None = Field(
        None,
        description="The app's public base URL (https://…), printed on certificates and in "
        "their QR code; default: the URL of the request.",
    )

    # -- time ------
    clock: Literal["real", "simulated"] = Field(
        "real", description="`simulated`: the time is kept in the database and moved by hand."
    )
    scheduler: bool = Field(
        False, description="Run the timer sweeper inside the web process (`make run`)."
    )
    sweep_seconds: float = Field(
        10.0,
        gt=0,
        description="The longest a timer sweeper sleeps; it wakes earlier at the next due time "
        "(and on PostgreSQL when an earlier timer is stored or the simulated clock moves).",
    )
    prune_after_days: WholeNumber = Field(
        30,
        ge=0,
        description="The scheduler compacts the workflow state of an instance this many days "
        "after it finished (its event log keeps the history); 0: only `certflow prune` does.",
    )

    # -- the web ------
    max_request_mb: WholeNumber = Field(
        100, gt=0, description="The largest request body in MB (a task form with its files)."
    )
    secure_cookies: bool = Field(
        False, description="Mark the session cookie Secure always (it is on HTTPS anyway)."
    )
    trust_proxy: WholeNumber = Field(
        0,
        ge=0,
        le=10,
        description="Reverse proxies in front of the app whose X-Forwarded-* headers are "
        "trusted; 0 when clients connect directly.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token that may read /metrics (Prometheus); unset: /metrics is off "
        "(404) for everyone.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`json`: one JSON object per log line with the request id (production).",
    )
    complaint_rate_limit: WholeNumber = Field(
        5, ge=1, description="Public complaint submissions per address and window (R-12)."
    )
    complaint_rate_window_minutes: WholeNumber = Field(
        60, ge=1, description="The window of complaint_rate_limit, in minutes."
    )

    # -- scripts in process definitions ------
    script_timeout_seconds: float = Field(
        2.0, gt=0, description="Wall-clock limit of one script or expression run."
    )
    script_memory_mb: float = Field(
        64.0, gt=0, description="Memory growth limit of one script or expression run."
    )

    # -- the engine ------
    workflow_cache_size: int = Field(
        64,
        ge=0,
        description="Workflows each process keeps after saving them, so that the next change of "
        "the same instance need not restore its state (0: none).",
    )

    # -- rule parameters ------
    nc_response_days: Days = Field(
        30, description="R-8.7: days the client has to answer a nonconformity report."
    )
    nc_serious_response_days: Days = Field(
        90,
        description="R-8.7 §8.7.2: days the client has to correct a serious nonconformity "
        "(docs/decisions.md).",
    )
    audit_materials_days: Days = Field(
        5,
        description="R-8.6: days (from the closing meeting) to submit the audit report and "
        "materials (docs/decisions.md).",
    )
    nc_reminder_days_before: Days = Field(
        7, description="R-8.7: the NC reminder goes out this many days before the deadline."
    )
    suspension_correction_days: Days = Field(
        60, description="R-9.5.1: days given to correct the cause of a suspension."
    )
    suspension_max_months: WholeNumber = Field(
        MAX_SUSPENSION_MONTHS,
        ge=1,
        le=MAX_SUSPENSION_MONTHS,
        description="R-9.5.1: longest suspension in months (at most 6).",
    )
    misuse_correction_days: Days = Field(
        30, description="R-10.3: days given to correct a confirmed misuse of the mark."
    )
    fee_grace_days: Days = Field(
        30,
        description="R-9.5.1e: days after an invoice's due date before an unpaid invoice "
        "suspends the certificate (docs/decisions.md).",
    )
    disclosure_notice_days: Days = Field(
        10, description="R-11: days between the notice to the client and a disclosure."
    )
    surveillance_planning_lead_days: Days = Field(
        60, description="R-8.10.1: planning of a surveillance starts this many days before due."
    )
    surveillance_reminder_days_before: Days = Field(
        14, description="R-8.10.1: the client is reminded this many days before due."
    )
    certificate_signatory: str = Field(
        "认证决定人员",
        min_length=1,
        max_length=100,
        description="R-9.2: the name of the person who signs the certificates (the CB's "
        "authorised signatory; never taken from a user account).",
    )
    certificate_signatory_title: str = Field(
        "授权签字人",
        min_length=1,
        max_length=100,
        description="R-9.2: the signatory's title printed under the name on the certificates.",
    )
    document_locale: Literal["zh_CN", "en"] = Field(
        "zh_CN",
        description="The language letters, notices and reports are written in (the catalogue "
        "of domain/letters); the CB issues them in Chinese.",
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        # The plain scheme would pick psycopg2, which is not installed; psycopg 3 is.
        if value is not None and value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @field_validator("extra_handlers", mode="before")
    @classmethod
    def _split_modules(cls, value: Any) -> Any:
        return _comma_separated(value)

    @field_validator("extra_handlers")
    @classmethod
    def _module_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _MODULE_NAME.match(name):
                raise ValueError(f"{name!r} is not a module name (a.b.c)")
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("certificate_signatory", "certificate_signatory_title", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL is required")
        return value

    @property
    def max_request_bytes(self) -> int:
        return self.max_request_mb * 1024 * 1024


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


# The app-config key of each field: the key the application has always read (tests and
# embedders pass overrides under it); CERTFLOW_<FIELD> for the others.
_LEGACY_CONFIG_KEYS = {
    "database_url": "SQLALCHEMY_DATABASE_URI",
    "secret_key": "SECRET_KEY",
    **{
        field: field.upper()
        for field in (
            "nc_response_days",
            "nc_reminder_days_before",
            "suspension_correction_days",
            "suspension_max_months",
            "misuse_correction_days",
            "disclosure_notice_days",
            "surveillance_planning_lead_days",
            "surveillance_reminder_days_before",
            "certificate_signatory",
            "complaint_rate_limit",
            "complaint_rate_window_minutes",
        )
    },
}
CONFIG_KEYS: dict[str, str] = {
    field: _LEGACY_CONFIG_KEYS.get(field, env_name(field)) for field in Settings.model_fields
}


def overrides_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings fields given in a Flask config mapping (other keys are Flask's own)."""
    return {field: config[key] for field, key in CONFIG_KEYS.items() if key in config}


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings from the environment, `overrides` (field → value) winning; a bad value raises
    SettingsError naming the environment variable, the rule and the value."""
    try:
        return Settings(**dict(overrides or {}))
    except ValidationError as err:
        raise SettingsError(_describe(err)) from None


def _describe(err: ValidationError) -> str:
    lines = []
    for error in err.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = env_name(field) if field in Settings.model_fields else field
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}, not {error.get('input')!r}")
    return "invalid settings: " + "; ".join(lines)


def flask_config(settings: Settings) -> dict[str, Any]:
    """The Flask configuration derived from the settings (database, secret, body limit) plus
    every field under its app-config key, for code that still reads `app.config`."""
    values: dict[str, Any] = {
        CONFIG_KEYS[field]: getattr(settings, field) for field in Settings.model_fields
    }
    values[CONFIG_KEYS["secret_key"]] = (
        settings.secret_key.get_secret_value() if settings.secret_key else None
    )
    values[CONFIG_KEYS["processes_dir"]] = str(settings.processes_dir)
    values[CONFIG_KEYS["trust_proxy"]] = str(settings.trust_proxy)
    # Werkzeug refuses a larger body (413) from Content-Length before reading it, and while
    # reading a chunked one; never None (= no limit).
    values["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    return values
