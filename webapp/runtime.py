"""The running application's engine, clock and settings (set up by webapp.create_app), for the
views: kept apart from the package's __init__ so that the blueprints do not import the
composition root that imports them."""

from flask import current_app

from certflow.clock import Clock
from certflow.settings import EXTENSION_KEY, Settings
from engine.service import WorkflowEngine


def get_engine() -> WorkflowEngine:
    return current_app.extensions["certflow.engine"]


def get_clock() -> Clock:
    return current_app.extensions["certflow.clock"]


def get_settings() -> Settings:
    return current_app.extensions[EXTENSION_KEY]
