"""The Flask configuration from the settings (certflow/settings.py); secrets never live in the
repository."""

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from certflow.settings import Settings, flask_config, load_settings

# Kept for webapp/security.py; the one definition is the settings field.
DEFAULT_MAX_REQUEST_MB: int = Settings.model_fields["max_request_mb"].default


def _secret_key(instance_path: Path) -> str:
    """A random key generated once and kept under instance/ (when CERTFLOW_SECRET_KEY is unset).

    Several processes may start at once (gunicorn workers, schedulers): the key is written to a
    private temporary file and linked into place, which fails if another process got there
    first — then that process's key is read. Every process thus signs with the same key."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.close(fd)
            os.link(temporary, key_file)  # atomic; FileExistsError when another process won
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
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
