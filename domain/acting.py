"""Who records a fact, when, in which database session — what a domain operation needs of its
caller (the engine's handler context has these attributes, so does a test's)."""

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


class Acting(Protocol):
    @property
    def session(self) -> Session: ...

    @property
    def now(self) -> datetime: ...

    @property
    def actor(self) -> str: ...


def stamp(act: Acting, who: str = "recorded_by", when: str = "recorded_at") -> dict[str, str]:
    """R-13: who recorded a fact and when, as stored with it."""
    return {who: act.actor, when: act.now.isoformat()}
