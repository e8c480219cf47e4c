"""Shared test helpers: actors, deploying fixture processes, registering test handlers."""

from contextlib import contextmanager
from pathlib import Path

from engine.service import Actor
from handlers import handler, unregister

FIXTURES = Path(__file__).parent / "fixtures"
REVIEW_FLOW = FIXTURES / "processes"

MARKET = Actor("mia_market", frozenset({"market"}))
MARKET_2 = Actor("max_market", frozenset({"market"}))
CLIENT = Actor("carl_client", frozenset({"client"}))
ADMIN = Actor("ada_admin", frozenset({"admin"}))
OWNER = Actor("olga_owner", frozenset({"process_owner"}))


@contextmanager
def registered(operator: str, fn):
    """Register `fn` as the handler of `operator` for the duration of the block."""
    handler(operator)(fn)
    try:
        yield fn
    finally:
        unregister(operator)


def record_acceptance(params, ctx):
    return {"application_id": params["application_id"], "man_days": params["man_days"]}
