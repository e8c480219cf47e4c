"""The lifecycle builder lives in scenarios/ (the compliance demo drives cases with it too): the
tests import it from here as before."""

from scenarios.lifecycle_case import NOTHING_FOUND_REVIEW, Lifecycle, nine_am

__all__ = ["NOTHING_FOUND_REVIEW", "Lifecycle", "nine_am"]
