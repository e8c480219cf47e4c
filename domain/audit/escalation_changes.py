"""What an escalation decision changes (R-8.5.3 3)): the audit department's decision is not only
recorded — a modified plan changes the audit's plan (the change and, when given, a new last
on-site day, kept as a revision), and a scope change is proposed with the new scope and decided
together with the market department (审核部会同市场部), whose conclusion, once agreed, becomes
the audit's scope (the report shows the scope in force)."""

from datetime import date
from typing import Any

from domain.acting import Acting, stamp
from domain.audit.common import get_audit, require_status
from domain.checks import is_true, optional_text, require_date, require_text
from domain.errors import RuleViolation
from domain.models import Audit


def plan_revision(act: Acting, audit: Audit, plan_changes: Any, new_end_date: Any) -> dict:
    """R-8.5.3 3)a) 修改审查计划: apply the change to the audit's plan; → the revision stored."""
    changes = require_text(plan_changes, "plan_changes", "R-8.5.3")
    end_before = audit.end_date
    end_after = end_before
    if new_end_date not in (None, ""):
        end_after = require_date(new_end_date, "new_end_date", "R-8.5.3")
        _check_end_date(audit, end_after)
        audit.end_date = end_after
    revision = {
        "changes": changes,
        "end_date_before": end_before.isoformat() if end_before else None,
        "end_date_after": end_after.isoformat() if end_after else None,
        **stamp(act, "revised_by", "revised_at"),
    }
    plan = dict(audit.plan or {})
    plan["revisions"] = [*plan.get("revisions", []), revision]
    audit.plan = plan  # a new dict: the JSON column sees the change
    return revision


def _check_end_date(audit: Audit, end: date) -> None:
    if audit.start_date and end < audit.start_date:
        raise RuleViolation(
            "R-8.5.3",
            f"the new last on-site day {end} is before the first day {audit.start_date}",
            field="new_end_date",
        )


def scope_proposal(audit: Audit, new_scope: Any) -> dict:
    """R-8.5.3 3)b): the scope the audit department proposes; the market department decides
    with it (record_scope_decision) before it applies."""
    proposed = require_text(new_scope, "new_scope", "R-8.5.3")
    if proposed == (audit.scope or "").strip():
        raise RuleViolation(
            "R-8.5.3", "the proposed scope is the audit's scope already", field="new_scope"
        )
    return {"scope_before": audit.scope or "", "proposed_scope": proposed}


def record_scope_decision(
    act: Acting, audit_id: int, *, agreed: Any, opinion: Any, follow_up: Any
) -> dict:
    """R-8.5.3 3)b) 审核部会同市场部…给出是否同意改变审核范围的结论和必要的后续措施: the market
    department's conclusion on the pending scope change; agreed → the audit's scope changes.
    → {"scope_changed", "scope"}."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress"], "R-8.5.3", "decide a scope change")
    escalations = list(audit.escalations or [])
    pending = next(
        (
            index
            for index in reversed(range(len(escalations)))
            if escalations[index].get("decision") == "change_scope"
            and "market_decision" not in escalations[index]
        ),
        None,
    )
    if pending is None:
        raise RuleViolation("R-8.5.3", "there is no scope change waiting for the market department")
    changed = is_true(agreed)
    entry = dict(escalations[pending])
    entry["market_decision"] = {
        "agreed": changed,
        "opinion": require_text(opinion, "opinion", "R-8.5.3"),
        "follow_up": optional_text(follow_up),
        **stamp(act, "decided_by", "decided_at"),
    }
    if changed:
        audit.scope = entry["proposed_scope"]
        entry["scope_after"] = audit.scope
    escalations[pending] = entry
    audit.escalations = escalations
    return {"scope_changed": changed, "scope": audit.scope}
