"""A blocked case, said in words: the open incidents of instances, for the inbox, the case page
and the instance page. A rule's refusal is shown with its rule (R-…) and reason; any other
failure as a technical fault (its details stay on the instance page for staff)."""

import re

from flask_babel import gettext as _

from engine.service import IncidentView, InstanceView
from webapp.auth import current_viewer
from webapp.runtime import get_engine

RULE_TEXT = re.compile(r"\b(R-\d[\w.\-/]*: .*)", re.S)


def incident_reason(incident: IncidentView, step_name: str | None = None) -> str:
    step = step_name or incident.element_id
    if incident.error_type == "RuleViolation":
        match = RULE_TEXT.search(incident.message)
        if match:
            return _(
                "The step “%(step)s” refused the data: %(rule)s",
                step=step,
                rule=match.group(1).strip()[:600],
            )
    return _("The step “%(step)s” stopped on a technical fault; staff can retry it.", step=step)


def blocked_reasons(instance_ids: list[int], *, staff: bool = True) -> dict[int, list[str]]:
    """{instance id: the reasons it is blocked} for the instances with open incidents. A client
    is told only that the certification body is dealing with it."""
    if not instance_ids:
        return {}
    incidents = get_engine().incidents_of(instance_ids)
    reasons: dict[int, list[str]] = {}
    names: dict[int, dict[str, str]] = {}
    for incident in incidents:
        if staff and incident.instance_id not in names:
            names[incident.instance_id] = get_engine().step_names(incident.instance_id)
        reason = (
            incident_reason(incident, names[incident.instance_id].get(incident.element_id))
            if staff
            else _(
                "A step after your answer is held up; the certification body is dealing with it."
            )
        )
        reasons.setdefault(incident.instance_id, []).append(reason)
    return reasons


def my_blocked_cases(username: str, *, staff: bool) -> list[tuple[InstanceView, list[str]]]:
    """The blocked instances in which `username` completed a task (the submitter's view)."""
    instances = get_engine().blocked_instances_worked_on(username)
    reasons = blocked_reasons([i.id for i in instances], staff=staff)
    return [(i, reasons[i.id]) for i in instances if i.id in reasons]


def init_blocked(app) -> None:
    """Templates ask `blocked_reasons_of(ids)` and `my_blocked_cases_now()` (current viewer)."""

    def blocked_reasons_of(instance_ids):
        return blocked_reasons(list(instance_ids), staff=current_viewer().is_staff)

    def my_blocked_cases_now():
        viewer = current_viewer()
        return my_blocked_cases(viewer.username, staff=viewer.is_staff)

    app.jinja_env.globals.update(
        blocked_reasons_of=blocked_reasons_of, my_blocked_cases_now=my_blocked_cases_now
    )
