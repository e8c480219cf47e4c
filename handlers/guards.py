"""Handlers: guards (see docs/initial-certification.md)."""
