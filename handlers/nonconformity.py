"""Handlers: nonconformity (see docs/initial-certification.md)."""
