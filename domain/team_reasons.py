"""Why a proposed audit team is refused, and its impartiality flags, worded for the person who
appoints it (issue 10): in Chinese and English (domain.said), naming people by name — never by
id — and citing the rules in words. The rules themselves are domain.team's."""

from datetime import date
from typing import Any

from domain.said import said

ROLE_ZH = {"leader": "审查组长", "auditor": "审查员", "tech_expert": "技术专家"}
ROLE_EN = {"leader": "team leader", "auditor": "auditor", "tech_expert": "technical expert"}
KIND_ZH = {"initial": "初始审查", "surveillance": "监督审查", "recertification": "再认证审查"}
KIND_ZH["special"] = "特殊审查"
KIND_EN = {
    "initial": "initial audit",
    "surveillance": "surveillance audit",
    "recertification": "recertification audit",
    "special": "special audit",
}
CONFLICT_ZH = {"consulted": "为该组织提供咨询", "employed": "在该组织任职"}
CONFLICT_EN = {"consulted": "consulted for the organisation", "employed": "worked there"}
UNKNOWN_ZH, UNKNOWN_EN = "所选人员", "the person chosen"


def named_twice(name: str) -> dict[str, Any]:
    return said("R-7.2.1", f"{name}被重复委派", f"{name} is named twice")


def unknown_role(name: str) -> dict[str, Any]:
    return said(
        "R-7.2.1",
        f"{name}的角色无效，请选择审查组长、审查员或技术专家",
        f"{name} has no valid role: choose team leader, auditor or technical expert",
    )


def unknown_auditor() -> dict[str, Any]:
    return said(
        "R-7.2.2",
        "所选人员不在人力资源部的审查人员记录中",
        "the person chosen is not in HR's records of auditors",
    )


def no_leader() -> dict[str, Any]:
    return said("R-7.2.1", "审查组须有一名审查组长", "the team needs one team leader")


def many_leaders(names: list[str]) -> dict[str, Any]:
    return said(
        "R-7.2.1",
        f"审查组只能有一名审查组长，现有{len(names)}名：{'、'.join(names)}",
        f"the team may have only one team leader, not {len(names)}: {', '.join(names)}",
    )


def not_leader_qualified(name: str) -> dict[str, Any]:
    return said(
        "R-7.2.2",
        f"{name}未经评价具备审查组长资格",
        f"{name} is not qualified as team leader",
    )


def expert_as_auditor(name: str, role: str) -> dict[str, Any]:
    return said(
        "R-7.2.4",
        f"{name}是技术专家，不能担任{ROLE_ZH.get(role, role)}：技术专家只在审查员指导下提供建议",
        f"{name} is a technical expert and cannot act as {ROLE_EN.get(role, role)}: "
        "a technical expert advises the auditors and never audits",
    )


def not_an_expert(name: str) -> dict[str, Any]:
    return said(
        "R-7.2.4",
        f"{name}不是登记的技术专家，请将其委派为审查组长或审查员",
        f"{name} is not recorded as a technical expert: appoint them as leader or auditor",
    )


def evaluated_not_qualified(name: str, on: date | None) -> dict[str, Any]:
    when_zh = f"于{on.isoformat()}" if on else ""
    when_en = f" on {on.isoformat()}" if on else ""
    return said(
        "R-7.2.2",
        f"人力资源部{when_zh}评价{name}不合格",
        f"HR evaluated {name} as not qualified{when_en}",
    )


def no_registration(name: str) -> dict[str, Any]:
    return said(
        "R-7.2.2",
        f"{name}没有服务认证审查员注册资格",
        f"{name} has no service-certification auditor registration",
    )


def registration_expires(name: str, number: str, until: date, onsite_end: date) -> dict:
    return said(
        "R-7.2.2",
        f"{name}的注册资格（{number}）于{until.isoformat()}到期，"
        f"早于现场审查结束日{onsite_end.isoformat()}",
        f"{name}'s registration ({number}) ends on {until.isoformat()}, before the on-site "
        f"audit ends on {onsite_end.isoformat()}",
    )


def sole_not_leader(name: str) -> dict[str, Any]:
    return said(
        "R-7.2.3",
        f"审查组仅有一名审查员{name}，其不具备审查组长资格",
        f"{name} is the team's only auditor and is not qualified as team leader",
    )


def sole_not_field(name: str) -> dict[str, Any]:
    return said(
        "R-7.2.3",
        f"审查组仅有一名审查员{name}，其不具备商品售后服务认证领域资格",
        f"{name} is the team's only auditor and is not competent for after-sales service",
    )


def audited_before(name: str, kind: str, when: date | None, role: str) -> dict[str, Any]:
    """The flag's detail: which earlier audit, by its kind and date (never its id)."""
    day_zh = when.isoformat() if when else "日期未定"
    day_en = when.isoformat() if when else "undated"
    return said(
        None,
        f"{name}曾以{ROLE_ZH.get(role, role)}身份参加该组织的{KIND_ZH.get(kind, kind)}（{day_zh}）",
        f"{name} audited this organisation before: {KIND_EN.get(kind, kind)} ({day_en}) "
        f"as {ROLE_EN.get(role, role)}",
    )


def conflict(name: str, kind: str, until: date, note: str, onsite_start: date) -> dict:
    note_zh = f"（{note}）" if note else ""
    note_en = f" ({note})" if note else ""
    return said(
        None,
        f"{name}两年内曾{CONFLICT_ZH.get(kind, kind)}，至{until.isoformat()}{note_zh}",
        f"{name} {CONFLICT_EN.get(kind, kind)} until {until.isoformat()}{note_en}, within two "
        f"years before the on-site audit ({onsite_start.isoformat()})",
    )


def conflict_refusal(detail: dict[str, Any]) -> dict[str, Any]:
    """CNAS-CC01: such a person must not audit the organisation."""
    return said(
        "R-7.2.1(5)",
        f"{detail['zh_CN']}。两年内为该组织提供咨询或在该组织任职的人员不得审查该组织",
        f"{detail['en']}. A person who consulted for or worked at the organisation within two "
        "years must not audit it",
    )
