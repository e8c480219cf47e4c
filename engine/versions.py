"""Process definitions: deploy (validated, versioned by content), the latest versions, the
forms stored with a version."""

import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from engine.actors import Actor
from engine.core import EngineCore
from engine.definitions import DeployResult, deploy_definitions
from engine.errors import NotFoundError
from engine.models import ProcessVersion, ProcessVersionFile


class Versions(EngineCore):
    """Deploying definitions and reading deployed versions and their forms."""

    def deploy(
        self, paths: Sequence[str | Path], *, actor: Actor, comment: str = ""
    ) -> DeployResult:
        with self._transaction() as session:
            now = self.clock.now()
            result = deploy_definitions(
                session,
                self.serializer,
                paths,
                actor=actor.username,
                comment=comment,
                handler_names=self.registry.operators(),
                guard_names=self.registry.guards(),
                validator_names=self.registry.validators(),
                now=now,
            )
            for version in result.created:
                self._log(
                    session,
                    "definition_deployed",
                    actor,
                    now,
                    data={
                        "process_id": version.process_id,
                        "version": version.version,
                        "sha256": version.sha256,
                        "deployment_id": result.deployment_id,
                        "comment": comment,
                    },
                )
        return result

    def latest_version(self, process_id: str) -> ProcessVersion:
        version = self.session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if version is None:
            raise NotFoundError(f"process {process_id!r} is not deployed")
        return version

    def list_latest_versions(self) -> list[ProcessVersion]:
        newest = (
            select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
            .group_by(ProcessVersion.process_id)
            .subquery()
        )
        return list(
            self.session.scalars(
                select(ProcessVersion)
                .join(
                    newest,
                    (ProcessVersion.process_id == newest.c.process_id)
                    & (ProcessVersion.version == newest.c.version),
                )
                .order_by(ProcessVersion.process_id)
                .options(joinedload(ProcessVersion.deployment))  # who deployed it (issue 16)
            )
        )

    def form_schema(self, version_id: int, path: str) -> dict:
        version = self.session.get(ProcessVersion, version_id)
        if version is None:
            raise NotFoundError(f"form {path!r} is not part of process version {version_id}")
        return self._version_form(version, path)

    def _version_form(self, version: ProcessVersion, path: str) -> dict:
        """A form of a version, parsed once per process: the version's sha256 covers every file
        it depends on (forms included), so (version hash, path) always names the same content
        and the cache needs no database round trip (issue 16)."""
        key = (version.sha256, path)
        cached = self._form_cache.get(key)
        if cached is not None:
            return cached
        row = self.session.get(ProcessVersionFile, (version.id, path))
        if row is None:
            raise NotFoundError(f"form {path!r} is not part of process version {version.id}")
        return self._form_cache.setdefault(key, json.loads(row.source.content))
