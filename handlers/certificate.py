"""Handlers: certificate (see docs/initial-certification.md)."""
