"""The whole-case builder lives in scenarios/ (the compliance demo drives cases with it too):
the tests import it from here as before."""

from scenarios.certification_case import Case
from scenarios.certified import granted_case, one_nc, through_onsite
from scenarios.people import (
    NO_SHIFTS,
    PROCESSES,
    SITES,
    People,
    actor,
    deploy_everything,
    findings_losing,
    make_people,
)

__all__ = [
    "NO_SHIFTS",
    "PROCESSES",
    "SITES",
    "Case",
    "People",
    "actor",
    "deploy_everything",
    "findings_losing",
    "granted_case",
    "make_people",
    "one_nc",
    "through_onsite",
]
