"""The Flask configuration from the settings (certflow/settings.py); secrets never live in the
repository."""

import secrets
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from certflow.settings import Settings, flask_config, load_settings

# Kept for webapp/security.py; the one definition is the settings field.
DEFAULT_MAX_REQUEST_MB: int = Settings.model_fields["max_request_mb"].default


def _secret_key(instance_path: Path) -> str:
    """A random key generated once and kept under instance/ (when CERTFLOW_SECRET_KEY is unset)."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def resolve(settings: Settings, instance_path: str | Path) -> Settings:
    """The settings completed for the instance folder the app runs in: the default SQLite file
    and the generated secret key live there."""
    path = Path(instance_path)
    update: dict[str, Any] = {"instance_path": path}
    if settings.database_url is None:
        update["database_url"] = f"sqlite:///{path / 'certflow.sqlite3'}"
    if settings.secret_key is None:
        update["secret_key"] = SecretStr(_secret_key(path))
    return settings.model_copy(update=update)


def load_config(instance_path: str) -> dict[str, Any]:
    """The Flask configuration for `instance_path` from the environment."""
    return flask_config(resolve(load_settings(), instance_path))
