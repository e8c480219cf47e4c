"""Handlers: programme (see docs/initial-certification.md)."""
