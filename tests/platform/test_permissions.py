"""The one permission table (certflow/permissions.py)."""

import pytest

from certflow.permissions import PERMISSIONS, Permission, check_table, may, roles_with


def test_the_table_grants_what_the_role_sets_granted():
    # The sets webapp/access.py and webapp/api/routes.py kept before issue 14 (behaviour unchanged).
    assert roles_with(Permission.SEE_ALL_TASKS) == {"admin", "quality_manager"}
    assert roles_with(Permission.SEE_ALL_INSTANCES) == {
        "admin",
        "quality_manager",
        "process_owner",
        "assessor",  # issue 13: reads every case, read-only
    }
    assert roles_with(Permission.READ_ORPHAN_FILES) == {
        "admin",
        "quality_manager",
        "process_owner",
        "complaints",  # public complaints have no organisation
    }
    assert roles_with(Permission.RETRY_INCIDENT) == {"admin", "process_owner"}
    assert roles_with(Permission.CHANGE_CLOCK) == {"admin"}
    assert roles_with(Permission.MANAGE_USERS) == {"admin"}


def test_the_engine_asks_the_table_who_supervises():
    from engine.service import SUPERVISOR_ROLES

    assert roles_with(Permission.REASSIGN_TASKS) == SUPERVISOR_ROLES == {"admin"}


def test_may_needs_one_role_holding_the_permission():
    assert may({"auditor", "process_owner"}, Permission.RETRY_INCIDENT)
    assert not may({"quality_manager"}, Permission.RETRY_INCIDENT)
    assert not may(set(), Permission.SEE_ALL_TASKS)
    assert not may({"client"}, Permission.SEE_ALL_INSTANCES)


def test_a_typo_in_the_table_is_refused():
    with pytest.raises(ValueError, match="unknown roles \\['admn'\\]"):
        check_table({**PERMISSIONS, Permission.CHANGE_CLOCK: frozenset({"admn"})})
    incomplete = {p: r for p, r in PERMISSIONS.items() if p is not Permission.MANAGE_USERS}
    with pytest.raises(ValueError, match="no entry for \\['manage_users'\\]"):
        check_table(incomplete)


def test_the_assessor_reads_and_holds_nothing_else():
    """Issue 13: the accreditation assessor reads the quality workspace and every case; no task,
    no file of no organisation, no change."""
    held = {permission for permission, roles in PERMISSIONS.items() if "assessor" in roles}
    assert held == {Permission.AUDIT_QUALITY, Permission.SEE_ALL_INSTANCES}
