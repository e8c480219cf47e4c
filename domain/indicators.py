"""Deployed versions of the GB/T 27922-2011 indicator set (R-3): data a process owner edits.

`processes/indicators/*.json` files are loaded by `certflow deploy` (`load_indicator_sets`); each
file whose content (sha256) is new becomes a new `IndicatorSetVersion` row. Audits are scored
against the latest loaded version (`active_indicator_set`) and record which one they used
(`Audit.indicator_set` = "code version"), so an old audit can always be re-read against the
version it was scored with (`indicator_set_by_label`).

A stored version never changes (its sha256 is of its content; a changed file must raise the
version), so each is parsed once per process (`_PARSED`) and its content read only then: an
audit step asked for the set up to four times a completion, each time reading and checking the
whole document again.
"""

import hashlib
import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from domain.models import IndicatorSetVersion
from domain.scoring import DEFAULT_INDICATOR_SET_PATH, IndicatorSet, parse_indicator_set

ACTIVE_CODE = "GB/T 27922-2011"
DEFAULT_INDICATORS_DIR = DEFAULT_INDICATOR_SET_PATH.parent
_PARSED: dict[str, IndicatorSet] = {}  # sha256 of a stored version → that version, parsed


def load_indicator_sets(
    session: Session, directory: str | Path, actor: str, now: datetime
) -> list[IndicatorSetVersion]:
    """Store every `*.json` in `directory` whose sha256 is not stored yet; return the new rows.

    All files are read and validated (`parse_indicator_set`) before anything is written, so a bad
    file stores nothing. A changed file that keeps an already stored (code, version) is refused:
    raise "version" when editing the set. Raises ValueError naming the file.
    """
    pending: list[tuple[Path, str, dict, IndicatorSet]] = []
    for path in sorted(Path(directory).glob("*.json")):
        content = path.read_bytes()
        sha256 = hashlib.sha256(content).hexdigest()
        if _stored_by_sha(session, sha256) or any(sha == sha256 for _, sha, _, _ in pending):
            continue
        raw = _decode(path, content)
        indicator_set = parse_indicator_set(raw, source=str(path))
        _refuse_reused_version(session, path, indicator_set, pending)
        pending.append((path, sha256, raw, indicator_set))
    created = []
    for _path, sha256, raw, indicator_set in pending:
        row = IndicatorSetVersion(
            code=indicator_set.code,
            version=indicator_set.version,
            sha256=sha256,
            content=raw,
            loaded_by=actor,
            loaded_at=now,
        )
        session.add(row)
        created.append(row)
    session.flush()
    return created


def load_default_indicator_sets(
    session: Session, now: datetime, actor: str = "test"
) -> list[IndicatorSetVersion]:
    """Load the repository's `processes/indicators/` (for tests and demo setups; no fixture)."""
    return load_indicator_sets(session, DEFAULT_INDICATORS_DIR, actor, now)


def active_indicator_set(
    session: Session, code: str = ACTIVE_CODE
) -> tuple[IndicatorSetVersion, IndicatorSet]:
    """The latest loaded version of `code`, parsed; LookupError when none is loaded."""
    row = session.scalars(
        select(IndicatorSetVersion)
        .options(defer(IndicatorSetVersion.content))
        .where(IndicatorSetVersion.code == code)
        .order_by(IndicatorSetVersion.loaded_at.desc(), IndicatorSetVersion.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise LookupError(f"no indicator set {code!r} is loaded (run `certflow deploy`)")
    return row, _parsed(row)


def indicator_set_by_label(
    session: Session, label: str
) -> tuple[IndicatorSetVersion, IndicatorSet]:
    """The stored version named by `label` ("code version", as kept in `Audit.indicator_set`)."""
    code, _, version = label.rpartition(" ")
    row = session.scalars(
        select(IndicatorSetVersion)
        .options(defer(IndicatorSetVersion.content))
        .where(IndicatorSetVersion.code == code, IndicatorSetVersion.version == version)
    ).first()
    if row is None:
        raise LookupError(f"indicator set {label!r} is not loaded")
    return row, _parsed(row)


def _parsed(row: IndicatorSetVersion) -> IndicatorSet:
    """The stored version, parsed (its content read) on first use in this process."""
    parsed = _PARSED.get(row.sha256)
    if parsed is None:
        parsed = _PARSED[row.sha256] = parse_indicator_set(
            row.content, source=indicator_set_label(row)
        )
    return parsed


def indicator_set_label(row: IndicatorSetVersion | IndicatorSet) -> str:
    """ "code version", e.g. "GB/T 27922-2011 2011.1"."""
    return f"{row.code} {row.version}"


def _stored_by_sha(session: Session, sha256: str) -> bool:
    found = session.scalars(
        select(IndicatorSetVersion.id).where(IndicatorSetVersion.sha256 == sha256)
    ).first()
    return found is not None


def _decode(path: Path, content: bytes) -> dict:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"indicator set {path}: not valid JSON: {err}") from err


def _refuse_reused_version(
    session: Session,
    path: Path,
    indicator_set: IndicatorSet,
    pending: list[tuple[Path, str, dict, IndicatorSet]],
) -> None:
    label = indicator_set_label(indicator_set)
    stored = session.scalars(
        select(IndicatorSetVersion.id).where(
            IndicatorSetVersion.code == indicator_set.code,
            IndicatorSetVersion.version == indicator_set.version,
        )
    ).first()
    clash = next((p for p, _, _, s in pending if indicator_set_label(s) == label), None)
    if stored is not None or clash is not None:
        where = f"file {clash}" if clash else "a stored version"
        raise ValueError(
            f"indicator set {path}: {label} differs from {where} with the same version; "
            "raise 'version' when editing the set"
        )
