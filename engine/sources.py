"""Source sets of process versions for the studio (issue 12): read the files of a deployed
version, validate an edited set exactly as `certflow validate` does, and deploy it.

A source set is `{stored path: text}` — the paths `deploy` stored (relative to the deployed
directory). Written back into a directory with the same layout, an unchanged set hashes to the
same sha256, so deploying it creates no version."""

import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certflow.process_texts import untranslated
from engine.definitions import DeployResult, deploy_definitions
from engine.errors import DeploymentError, NotFoundError
from engine.models import ProcessInstance, ProcessVersion
from engine.records import record_event
from engine.registry import HandlerRegistry
from engine.serialization import WorkflowSerializer
from engine.validation import validate_paths
from engine.validation_document import Problem

_UNTRANSLATED = re.compile(
    r"^(?P<file>.*?):(?P<line>\d+): (?P<where>\S+).*?: (?P<message>no English.*)$"
)


@dataclass(frozen=True)
class VersionSources:
    process_id: str
    version: int
    sha256: str
    main_path: str  # the file defining the process
    files: dict[str, str]


def versions_of(session: Session, process_id: str) -> list[tuple[int, str, datetime, int]]:
    """(version, sha256, deployed at, running instances) of every version of the process,
    newest first: which versions still govern running cases."""
    running = dict(
        session.execute(
            select(ProcessInstance.process_version_id, func.count(ProcessInstance.id))
            .where(ProcessInstance.status == "running")
            .group_by(ProcessInstance.process_version_id)
        ).all()
    )
    rows = session.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.version.desc())
    )
    return [
        (row.version, row.sha256, row.deployment.deployed_at, running.get(row.id, 0))
        for row in rows
    ]


def version_sources(
    session: Session, process_id: str, version: int | None = None
) -> VersionSources:
    query = select(ProcessVersion).where(ProcessVersion.process_id == process_id)
    if version is not None:
        query = query.where(ProcessVersion.version == version)
    row = session.scalars(query.order_by(ProcessVersion.version.desc()).limit(1)).first()
    if row is None:
        raise NotFoundError(f"process {process_id!r} version {version} is not deployed")
    files = {f.path: f.source.content.decode("utf-8") for f in row.files}
    return VersionSources(
        row.process_id, row.version, row.sha256, row.spec_files[row.process_id], files
    )


def _safe_path(stored: str) -> PurePosixPath:
    path = PurePosixPath(stored)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"not a relative path inside the source set: {stored!r}")
    return path


@contextmanager
def materialised(files: Mapping[str, str]) -> Iterator[Path]:
    """The source set written into a fresh directory (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="certflow-sources-") as tmp:
        root = Path(tmp)
        for stored, text in files.items():
            target = root / _safe_path(stored)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        yield root


def validate_sources(files: Mapping[str, str], registry: HandlerRegistry) -> list[Problem]:
    """The problems `certflow validate` reports for the set, with paths relative to it."""
    with materialised(files) as root:
        found = validate_paths([root], registry=registry)
        problems = [
            Problem(_relative(p.file, root), p.line, p.element_id, p.message) for p in found
        ]
        for line in untranslated([root]):
            match = _UNTRANSLATED.match(line)
            if match:
                problems.append(
                    Problem(
                        _relative(match["file"], root),
                        int(match["line"]),
                        match["where"].rstrip(":"),
                        match["message"],
                    )
                )
    return problems


def _relative(file: str, root: Path) -> str:
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file


def deploy_sources(
    session: Session,
    files: Mapping[str, str],
    *,
    registry: HandlerRegistry,
    actor: str,
    comment: str,
    now: datetime,
) -> DeployResult:
    """Validate (every check of `certflow validate`) and deploy the set in the caller's
    transaction: nothing is written on any problem."""
    problems = validate_sources(files, registry)
    if problems:
        raise DeploymentError([str(p) for p in problems])
    with materialised(files) as root:
        result = deploy_definitions(
            session,
            WorkflowSerializer(),
            [root],
            actor=actor,
            comment=comment,
            handler_names=registry.operators(),
            guard_names=registry.guards(),
            validator_names=registry.validators(),
            now=now,
        )
    for version in result.created:
        record_event(
            session,
            "definition_deployed",
            actor=actor,
            at=now,
            data={
                "process_id": version.process_id,
                "version": version.version,
                "sha256": version.sha256,
                "deployment_id": result.deployment_id,
                "comment": comment,
            },
        )
    return result
