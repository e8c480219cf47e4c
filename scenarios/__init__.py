"""Whole cases driven through the real engine and the deployed diagrams, the way the people of
each role would: the tests' stories (tests/certification_case.py and tests/lifecycle_case.py
import them from here) and the compliance demo data (`certflow seed-compliance`, issue 13).
Built on every layer; only the tests and cli/ (the composition root) import it."""
