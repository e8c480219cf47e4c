"""Deploying definitions: validate, then store a new version of each changed process, atomically."""

import hashlib
import posixpath
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.process_texts import CATALOGUE
from engine.errors import DeploymentError
from engine.models import Deployment, ProcessVersion, ProcessVersionFile, SourceFile
from engine.parsing import make_parser, parse_xml
from engine.serialization import WorkflowSerializer
from engine.validation import discover_files, validate_paths

FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


@dataclass
class DeployResult:
    deployment_id: int | None = None
    created: list[ProcessVersion] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _common_root(paths: Sequence[Path]) -> Path:
    dirs = [p if p.is_dir() else p.parent for p in paths]
    root = Path(posixpath.commonpath([str(d.resolve()) for d in dirs]))
    return root


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def form_path(spec_file: str, reference: str) -> str:
    """A form reference is relative to the directory of the BPMN file that names it."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(spec_file), reference))


def _dependencies(spec, subprocess_specs: dict, relpath, dmn_files: list[Path]) -> dict[str, Path]:
    """Every file the process needs, keyed by its stored (root-relative) path."""
    files: dict[str, Path] = {}
    uses_dmn = False
    for process_spec in [spec, *subprocess_specs.values()]:
        bpmn_file = Path(process_spec.file)
        stored = relpath(bpmn_file)
        files[stored] = bpmn_file
        for task_spec in process_spec.task_specs.values():
            uses_dmn = uses_dmn or isinstance(task_spec, BusinessRuleTaskMixin)
            properties = getattr(task_spec, "extensions", {}).get("properties", {})
            for name in FORM_PROPERTIES:
                if name in properties:
                    path = bpmn_file.parent / properties[name]
                    files[relpath(path)] = path
    if uses_dmn:
        for dmn in dmn_files:
            files[relpath(dmn)] = dmn
    return files


def deploy_definitions(
    session: Session,
    serializer: WorkflowSerializer,
    paths: Sequence[str | Path],
    *,
    actor: str,
    comment: str,
    handler_names: Collection[str],
    guard_names: Collection[str] = frozenset(),
    validator_names: Collection[str] = frozenset(),
    now: datetime,
) -> DeployResult:
    """Validate `paths`; on any problem raise DeploymentError and write nothing. Otherwise add a
    version for each process whose sources changed since its latest version, in one transaction
    that the caller commits."""
    problems = validate_paths(paths, handler_names, guard_names, validator_names)
    if problems:
        raise DeploymentError(problems)
    files = discover_files(paths)
    root = _common_root([Path(p) for p in paths])

    def relpath(path: Path) -> str:
        return path.resolve().relative_to(root).as_posix()

    parser = make_parser()
    bpmn_files = [f for f in files if f.suffix == ".bpmn"]
    dmn_files = [f for f in files if f.suffix == ".dmn"]
    # Read bytes: the XML declares its encoding, the machine's locale must not matter.
    for path in bpmn_files:
        parser.add_bpmn_xml(parse_xml(path.read_bytes()), filename=str(path))
    for path in dmn_files:
        parser.add_dmn_xml(parse_xml(path.read_bytes()), filename=str(path))

    result = DeployResult()
    deployment: Deployment | None = None
    for process_id in sorted(parser.get_process_ids()):
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        dependencies = _dependencies(spec, subprocess_specs, relpath, dmn_files)
        # The English texts are deployed with the definitions (certflow/process_texts.py): a
        # changed translation makes new versions, no code release needed.
        if (root / CATALOGUE).is_file():
            dependencies[CATALOGUE.as_posix()] = root / CATALOGUE
        contents = {stored: path.read_bytes() for stored, path in dependencies.items()}
        digests = {stored: _sha256(content) for stored, content in contents.items()}
        combined = _sha256(
            "\n".join(f"{stored} {digests[stored]}" for stored in sorted(digests)).encode()
        )
        latest = session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.sha256 == combined:
            result.unchanged.append(process_id)
            continue
        if deployment is None:
            deployment = Deployment(deployed_by=actor, deployed_at=now, comment=comment)
            session.add(deployment)
        version = ProcessVersion(
            process_id=process_id,
            version=(latest.version + 1) if latest else 1,
            name=spec.description or process_id,
            sha256=combined,
            deployment=deployment,
            spec_json=serializer.dump_spec(spec, subprocess_specs),
            spec_files={s.name: relpath(Path(s.file)) for s in [spec, *subprocess_specs.values()]},
            start_messages=sorted(
                ts.event_definition.name
                for ts in spec.task_specs.values()
                if isinstance(ts, StartEvent)
                and isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)
            ),
        )
        session.add(version)
        for stored, digest in digests.items():
            if session.get(SourceFile, digest) is None:
                session.add(SourceFile(sha256=digest, content=contents[stored]))
            version.files.append(ProcessVersionFile(path=stored, sha256=digest))
        result.created.append(version)
    session.flush()
    result.deployment_id = deployment.id if deployment else None
    return result
