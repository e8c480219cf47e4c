"""Who acts on the engine: a user (username + roles) or the system."""

from dataclasses import dataclass

from certflow.permissions import Permission, roles_with

# Who may claim for or reassign to someone else: the permission table's rule (one table).
SUPERVISOR_ROLES = roles_with(Permission.REASSIGN_TASKS)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (username + roles) or the system (scheduler, engine-internal routing)."""

    username: str
    roles: frozenset[str] = frozenset()

    @property
    def is_system(self) -> bool:
        return self.username == "system"

    def may_act_for(self, role: str | None) -> bool:
        return self.is_system or "admin" in self.roles or (role is not None and role in self.roles)


SYSTEM = Actor("system")
