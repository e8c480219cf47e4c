"""The role catalogue of requirements.md ("Roles"); lanes in BPMN and user roles use these ids."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    id: str
    name_zh: str
    name_en: str


ROLES: tuple[Role, ...] = (
    Role("client", "客户", "Client"),
    Role("market", "市场部", "Market department"),
    Role("scheduler", "计划调度", "Scheduler"),
    Role("hr", "人力资源部", "Human resources"),
    Role("team_leader", "审查组长", "Team leader"),
    Role("auditor", "审查员", "Auditor"),
    Role("tech_expert", "技术专家", "Technical expert"),
    Role("mystery_shopper", "暗访人员", "Mystery shopper"),
    Role("audit_dept", "审核部", "Audit department"),
    Role("technical_dept", "技术部", "Technical department (decision makers)"),
    Role("complaints", "投诉处理", "Complaints handling"),
    Role("process_owner", "流程负责人", "Process owner"),
    Role("quality_manager", "质量经理", "Quality manager"),
    # An accreditation body's assessor (CNAS, ISO/IEC 17065 8.5/8.6, issue 13): reads the quality
    # workspace and every case, works on no task and changes nothing.
    Role("assessor", "认可评审员", "Accreditation assessor"),
    Role("admin", "管理员", "Administrator"),
)

ROLE_IDS: frozenset[str] = frozenset(role.id for role in ROLES)
_BY_LANE_NAME: dict[str, str] = {
    **{role.id: role.id for role in ROLES},
    **{role.name_zh: role.id for role in ROLES},
}


def role_for_lane(lane_name: str | None) -> str | None:
    """Map a BPMN lane name (a role id or its Chinese name) to a role id; None when unknown."""
    if lane_name is None:
        return None
    return _BY_LANE_NAME.get(lane_name.strip())
