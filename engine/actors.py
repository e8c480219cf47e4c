"""Who acts on the engine: a user (username + roles) or the system."""

from dataclasses import dataclass

SUPERVISOR_ROLES = frozenset({"admin"})


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
