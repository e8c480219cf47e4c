"""Option sources of people (issue 10): the handlers a complaint may be assigned to (R-12)."""

from typing import Any

from sqlalchemy import select

from certflow.models import User
from domain.complaints import HANDLER_ROLE, get_complaint, handler_problem
from domain.models import Complaint
from domain.options import Choice, OptionContext, option_source


def _complaint(ctx: OptionContext) -> Complaint | None:
    try:
        return get_complaint(ctx.session, ctx.data.get("complaint_id"))
    except (LookupError, ValueError):
        return None


def _why_not(ctx: OptionContext, username: Any) -> str | None:
    complaint = _complaint(ctx)
    return handler_problem(ctx.session, complaint, username) if complaint else None


@option_source("complaint_handlers", "R-12", explain=_why_not)
def complaint_handlers(ctx: OptionContext) -> list[Choice]:
    """Active users of the complaints role; those involved in the matter are refused with the
    reason of the rule that complaints.record_investigation enforces (handler_problem)."""
    complaint = _complaint(ctx)
    if complaint is None:
        return []
    users = ctx.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.username)
    ).all()
    return [
        Choice(
            user.username,
            f"{user.display_name}（{user.username}）",
            refusal=handler_problem(ctx.session, complaint, user.username),
        )
        for user in users
        if user.has_role(HANDLER_ROLE)
    ]
