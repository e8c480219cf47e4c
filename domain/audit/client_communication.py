"""What the team tells the client before the closing meeting (R-8.5.3, R-8.5.4).

- R-8.5.3 2)b) 末次会议前审查组应与受审查组织的高层管理人员进行沟通，通报审查发现: the
  communication with the client's top management is recorded with the conclusion — when, who
  took part, what findings were communicated.
- R-8.5.4 3)/4) 应与受审查组织讨论扣分项 … 未解决的分歧点应在审查报告中予以记录: every
  deduction (nonconformity) was discussed with the client — who attended, the client's view on
  each one — and a deduction the client disputes is an unresolved disagreement that must be
  written down for the closing meeting and the report.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.checks import optional_text, require_past_date, require_text
from domain.errors import RuleViolation

CLIENT_VIEWS = ("agreed", "disputed")  # the client's view on a deduction


def top_management_communication(raw: Any, now: datetime) -> dict:
    """R-8.5.3 2)b): {date, participants, findings_communicated}, the date not in the future."""
    field = "top_management_communication"
    if not isinstance(raw, Mapping):
        raise RuleViolation(
            "R-8.5.3",
            "the communication with the client's top management before the closing meeting "
            "must be recorded",
            field=field,
        )
    day = require_past_date(raw.get("date"), f"{field}/date", "R-8.5.3", now)
    return {
        "date": day.isoformat(),
        "participants": require_text(raw.get("participants"), f"{field}/participants", "R-8.5.3"),
        "findings_communicated": require_text(
            raw.get("findings_communicated"), f"{field}/findings_communicated", "R-8.5.3"
        ),
    }


def client_views(nonconformities: list[Any]) -> list[dict]:
    """R-8.5.4 3): the client's view on each deduction, {item_code, client_view, client_comment}."""
    views = []
    for index, raw in enumerate(nonconformities):
        raw = raw if isinstance(raw, Mapping) else {}
        view = raw.get("client_view")
        if view not in CLIENT_VIEWS:
            raise RuleViolation(
                "R-8.5.4",
                "each deduction is discussed with the client: record whether the client agreed "
                "or disputes it",
                field=f"nonconformities/{index}/client_view",
            )
        views.append(
            {
                "item_code": raw.get("item_code"),
                "client_view": view,
                "client_comment": optional_text(raw.get("client_comment")),
            }
        )
    return views


def deduction_discussion(raw: Any, views: list[dict], disagreements: Any, now: datetime) -> dict:
    """R-8.5.4 3)/4): with deductions, the discussion's date and attendees; a disputed deduction
    needs the unresolved disagreement written down (kept for the closing meeting and report)."""
    field = "deduction_discussion"
    if not views:
        return {}
    if not isinstance(raw, Mapping):
        raise RuleViolation(
            "R-8.5.4",
            "the deductions must be discussed with the client: record when and who attended",
            field=field,
        )
    day = require_past_date(raw.get("date"), f"{field}/date", "R-8.5.4", now)
    attendees = require_text(raw.get("attendees"), f"{field}/attendees", "R-8.5.4")
    disputed = [view["item_code"] for view in views if view["client_view"] == "disputed"]
    if disputed and not optional_text(disagreements):
        raise RuleViolation(
            "R-8.5.4",
            f"the client disputes {', '.join(map(str, disputed))}: record the unresolved "
            "disagreement for the closing meeting and the report",
            field="disagreements",
        )
    return {"date": day.isoformat(), "attendees": attendees, "disputed": disputed}


def record_client_communication(data: Mapping[str, Any], now: datetime) -> dict:
    """All of the above for the conclusion's notes; raises RuleViolation naming the field."""
    nonconformities = data.get("nonconformities") or []
    views = client_views(nonconformities if isinstance(nonconformities, list) else [])
    return {
        "top_management_communication": top_management_communication(
            data.get("top_management_communication"), now
        ),
        "deduction_discussion": deduction_discussion(
            data.get("deduction_discussion"), views, data.get("disagreements"), now
        ),
        "client_views": views,
    }
