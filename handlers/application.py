"""Handlers: application (see docs/initial-certification.md)."""
