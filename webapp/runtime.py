"""The running application's engine and clock (set up by webapp.create_app), for the views: kept
apart from the package's __init__ so that the blueprints do not import the composition root
that imports them."""

from flask import current_app

from certflow.clock import Clock
from engine.service import WorkflowEngine


def get_engine() -> WorkflowEngine:
    return current_app.extensions["certflow.engine"]


def get_clock() -> Clock:
    return current_app.extensions["certflow.clock"]
