"""Handlers: decision (see docs/initial-certification.md)."""
