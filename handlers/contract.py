"""Handlers: contract (see docs/initial-certification.md)."""
