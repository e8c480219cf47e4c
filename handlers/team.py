"""Handlers: team (see docs/initial-certification.md)."""
