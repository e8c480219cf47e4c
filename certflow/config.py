"""Configuration from the environment (12-factor); secrets never live in the repository."""

import os
import secrets
from pathlib import Path
from typing import Any


def _secret_key(instance_path: Path) -> str:
    """CERTFLOW_SECRET_KEY, or a random key generated once and kept under instance/."""
    if os.environ.get("CERTFLOW_SECRET_KEY"):
        return os.environ["CERTFLOW_SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEFAULT_MAX_REQUEST_MB = 100  # a whole task form with several files; each file ≤ 20 MB


def max_request_bytes() -> int:
    """CERTFLOW_MAX_REQUEST_MB: the largest request body accepted (issue 9 item 6)."""
    megabytes = int(os.environ.get("CERTFLOW_MAX_REQUEST_MB", str(DEFAULT_MAX_REQUEST_MB)))
    if megabytes <= 0:
        raise ValueError("CERTFLOW_MAX_REQUEST_MB must be a positive number of megabytes")
    return megabytes * 1024 * 1024


def load_config(instance_path: str) -> dict[str, Any]:
    path = Path(instance_path)
    database_url = os.environ.get("CERTFLOW_DATABASE_URL", f"sqlite:///{path / 'certflow.sqlite3'}")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "SECRET_KEY": _secret_key(path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Werkzeug refuses a larger body (413) from Content-Length before reading it, and while
        # reading a chunked one; never None (= no limit).
        "MAX_CONTENT_LENGTH": max_request_bytes(),
        "CERTFLOW_CLOCK": os.environ.get("CERTFLOW_CLOCK", "real"),
        "CERTFLOW_SCHEDULER": os.environ.get("CERTFLOW_SCHEDULER", "0") == "1",
        "CERTFLOW_SWEEP_SECONDS": float(os.environ.get("CERTFLOW_SWEEP_SECONDS", "10")),
        # Reverse proxies in front of the app (webapp/transport.py); 0: clients connect directly.
        "CERTFLOW_TRUST_PROXY": os.environ.get("CERTFLOW_TRUST_PROXY", "0"),
        "CERTFLOW_PROCESSES_DIR": os.environ.get(
            "CERTFLOW_PROCESSES_DIR", str(Path(__file__).resolve().parent.parent / "processes")
        ),
    }
