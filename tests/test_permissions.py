"""The one permission table (certflow/permissions.py)."""


from certflow.permissions import Permission, roles_with


def test_the_table_grants_what_the_role_sets_granted():
    # The sets webapp/access.py and webapp/api/routes.py kept before issue 14 (behaviour unchanged).
    assert roles_with(Permission.SEE_ALL_TASKS) == {"admin", "quality_manager"}
    assert roles_with(Permission.SEE_ALL_INSTANCES) == {"admin", "quality_manager", "process_owner"}
    assert roles_with(Permission.READ_ORPHAN_FILES) == {
        "admin",
        "quality_manager",
        "process_owner",
        "complaints",  # public complaints have no organisation
    }
    assert roles_with(Permission.RETRY_INCIDENT) == {"admin", "process_owner"}
    assert roles_with(Permission.CHANGE_CLOCK) == {"admin"}
    assert roles_with(Permission.MANAGE_USERS) == {"admin"}
