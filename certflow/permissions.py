"""The one permission table: what each role may do beyond working on its own lanes' tasks.

An allowlist: a permission is granted to the roles listed here and to no one else; code asks
`roles_with(Permission.X)` or `may(roles, Permission.X)` instead of keeping its own role set.
Who may see a case's data at all (R-11) is decided in webapp/access.py, using these permissions.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum

from certflow.roles import ROLE_IDS


class Permission(StrEnum):
    SEE_ALL_TASKS = "see_all_tasks"  # the inbox's "All open" list and every task page
    SEE_ALL_INSTANCES = "see_all_instances"  # every process instance and case (R-11: staff)
    READ_ORPHAN_FILES = "read_orphan_files"  # files of no organisation (public complaints, R-12)
    RETRY_INCIDENT = "retry_incident"  # continue an instance stopped by an incident
    REASSIGN_TASKS = "reassign_tasks"  # claim for / reassign to someone else (the engine's rule)
    CHANGE_CLOCK = "change_clock"  # set or advance the simulated clock
    MANAGE_USERS = "manage_users"  # /admin/users: accounts and their roles
    # The studio (issue 12): process owners edit drafts of definitions; quality managers review
    # them (ISO/IEC 17065 8.3) — both see the studio's list of processes and versions.
    EDIT_DEFINITIONS = "edit_definitions"
    REVIEW_DEFINITIONS = "review_definitions"
    # Running cases moved to a new version of their process, and back (issue 12).
    MIGRATE_INSTANCES = "migrate_instances"
    MANAGE_AUDITORS = "manage_auditors"  # the auditor register: register, evaluate, renew
    # The quality manager's workspace (issue 13, ISO/IEC 17065 8.5/8.6): definitions register,
    # audit trail, rule traceability, compliance indicators, event-log exports and reports.
    AUDIT_QUALITY = "audit_quality"
    # 审查方案的任何后续调整: the scheduler (计划调度, who builds the programme) revises it.
    REVISE_PROGRAMME = "revise_programme"
    # with: the scheduler, who appoints the team, replaces a member during the audit.
    CHANGE_AUDIT_TEAM = "change_audit_team"
    # R-9.5.1e: the market department (who concludes the contract) invoices fees, records payments.
    MANAGE_FEES = "manage_fees"


_OVERSEEING = frozenset({"admin", "quality_manager", "process_owner"})
# The accreditation assessor (issue 13) reads what the quality manager reads of the cases and the
# quality workspace, nothing more: no task (SEE_ALL_TASKS), no file of no organisation (a public
# complainant's, READ_ORPHAN_FILES), no change of any kind (no other permission).
_READ_ONLY_ASSESSOR = frozenset({"assessor"})

PERMISSIONS: Mapping[Permission, frozenset[str]] = {
    Permission.SEE_ALL_TASKS: frozenset({"admin", "quality_manager"}),
    Permission.SEE_ALL_INSTANCES: _OVERSEEING | _READ_ONLY_ASSESSOR,
    Permission.READ_ORPHAN_FILES: _OVERSEEING | {"complaints"},
    Permission.RETRY_INCIDENT: frozenset({"admin", "process_owner"}),
    Permission.REASSIGN_TASKS: frozenset({"admin"}),
    Permission.CHANGE_CLOCK: frozenset({"admin"}),
    Permission.MANAGE_USERS: frozenset({"admin"}),
    Permission.EDIT_DEFINITIONS: frozenset({"process_owner"}),
    Permission.REVIEW_DEFINITIONS: frozenset({"quality_manager"}),
    Permission.MIGRATE_INSTANCES: frozenset({"process_owner", "admin"}),
    # 由人力资源部评价 — HR keeps the register; admin may too.
    Permission.MANAGE_AUDITORS: frozenset({"hr", "admin"}),
    Permission.AUDIT_QUALITY: frozenset({"quality_manager", "admin"}) | _READ_ONLY_ASSESSOR,
    Permission.REVISE_PROGRAMME: frozenset({"scheduler", "admin"}),
    Permission.CHANGE_AUDIT_TEAM: frozenset({"scheduler", "admin"}),
    Permission.MANAGE_FEES: frozenset({"market", "admin"}),
}


def check_table(table: Mapping[Permission, frozenset[str]]) -> None:
    """Every permission has an entry and names only roles of the catalogue: a typo must not
    grant or deny anything silently."""
    missing = sorted(str(p) for p in set(Permission) - set(table))
    unknown = sorted({role for roles in table.values() for role in roles} - ROLE_IDS)
    if missing or unknown:
        raise ValueError(f"permission table: no entry for {missing}, unknown roles {unknown}")


check_table(PERMISSIONS)


def roles_with(permission: Permission) -> frozenset[str]:
    """The roles holding `permission`."""
    return PERMISSIONS[permission]


def may(roles: Iterable[str], permission: Permission) -> bool:
    """True when one of `roles` holds `permission`."""
    return not PERMISSIONS[permission].isdisjoint(roles)
