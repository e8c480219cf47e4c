"""Handlers: audit (see docs/initial-certification.md)."""
