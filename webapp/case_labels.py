"""Labels of stored codes (statuses, kinds, outcomes …) on the case and instance pages: each code's
catalog text, its badge colour, star levels.
"""

from typing import Any

from flask_babel import get_locale, lazy_gettext

from domain.certificates import CANCELLATION_REASONS, SUSPENSION_REASONS, WITHDRAWAL_REASONS
from domain.changes import KINDS as CHANGE_KINDS
from domain.complaints import KIND_LABELS as COMPLAINT_KINDS

LABELS: dict[str, dict[str, Any]] = {
    "application": {
        "submitted": lazy_gettext("Submitted"),
        "accepted": lazy_gettext("Accepted"),
        "not_accepted": lazy_gettext("Not accepted"),
        "contracted": lazy_gettext("Contracted"),
        "certified": lazy_gettext("Certified"),
        "refused": lazy_gettext("Refused"),
        "terminated": lazy_gettext("Terminated"),
    },
    "declaration": {  # what the applicant declared (R-13, R-11, R-6.2.2b)
        "truth_attestation": lazy_gettext("Attestation of truth and legality"),
        "public_information": lazy_gettext("Information made public acknowledged"),
        "resubmission": lazy_gettext("Resubmitted after non-acceptance"),
    },
    "application_kind": {
        "initial": lazy_gettext("Initial certification"),
        "recertification": lazy_gettext("Recertification"),
    },
    "certificate": {
        "valid": lazy_gettext("Valid"),
        "suspended": lazy_gettext("Suspended"),
        "withdrawn": lazy_gettext("Withdrawn"),
        "cancelled": lazy_gettext("Cancelled"),
        "superseded": lazy_gettext("Superseded"),
    },
    "audit_kind": {
        "initial": lazy_gettext("Initial audit"),
        "surveillance": lazy_gettext("Surveillance audit"),
        "extra_surveillance": lazy_gettext("Extra surveillance audit"),
        "special": lazy_gettext("Special audit"),
        "recertification": lazy_gettext("Recertification audit"),
    },
    "audit": {
        "planned": lazy_gettext("Planned"),
        "in_progress": lazy_gettext("In progress"),
        "completed": lazy_gettext("Completed"),
        "terminated": lazy_gettext("Terminated"),
    },
    "conclusion": {
        "recommend": lazy_gettext("Recommend certification"),
        "downgrade": lazy_gettext("Recommend a lower level"),
        "not_recommend": lazy_gettext("Do not recommend"),
    },
    "finding": {
        "conform": lazy_gettext("Conform"),
        "nonconform": lazy_gettext("Nonconform"),
        "not_applicable": lazy_gettext("Not applicable"),
        "sampled": lazy_gettext("Sampled"),
    },
    "nonconformity": {  # issue 10: the NC status on the verification and decision tasks
        "open": lazy_gettext("Reported"),
        "confirmed": lazy_gettext("Confirmed by the client"),
        "answered": lazy_gettext("Answered"),
        "rejected": lazy_gettext("Answer not accepted"),
        "accepted": lazy_gettext("Closed (verified)"),
    },
    "complaint_channel": {
        "public": lazy_gettext("Public complaint form"),
        "portal": lazy_gettext("Client portal"),
        "staff": lazy_gettext("Recorded by staff"),
    },
    "escalation": {
        "none": lazy_gettext("Nothing to escalate"),
        "objectives_unachievable": lazy_gettext("The audit objectives cannot be achieved"),
        "significant_risk": lazy_gettext("Urgent significant risk"),
        "scope_change": lazy_gettext("The audit scope must change"),
        "terminate_request": lazy_gettext("Request to terminate the audit"),
    },
    "appointment_flag": {
        "audited_before": lazy_gettext("Audited this organisation before"),
        "conflict_of_interest": lazy_gettext("Possible conflict of interest"),
    },
    "team_role": {
        "leader": lazy_gettext("Team leader"),
        "auditor": lazy_gettext("Auditor"),
        "tech_expert": lazy_gettext("Technical expert"),
    },
    "instance": {
        "running": lazy_gettext("Running"),
        "completed": lazy_gettext("Completed"),
        "error": lazy_gettext("Incident"),
        "terminated": lazy_gettext("Terminated"),
        "cancelled": lazy_gettext("Cancelled"),
    },
    "task": {
        "open": lazy_gettext("Open"),
        "completed": lazy_gettext("Completed"),
        "cancelled": lazy_gettext("Cancelled"),
    },
    "event": {
        "instance_started": lazy_gettext("Process started"),
        "instance_completed": lazy_gettext("Process completed"),
        "instance_terminated": lazy_gettext("Process terminated"),
        "instance_pruned": lazy_gettext("Finished process compacted (history kept)"),
        "task_created": lazy_gettext("Task ready"),
        "task_claimed": lazy_gettext("Task claimed"),
        "task_unclaimed": lazy_gettext("Task released"),
        "task_reassigned": lazy_gettext("Task reassigned"),
        "task_completed": lazy_gettext("Task completed"),
        "task_cancelled": lazy_gettext("Task cancelled"),
        "timer_fired": lazy_gettext("Timer fired"),
        "message_delivered": lazy_gettext("Message received"),
        "message_queued": lazy_gettext("Message queued"),
        "incident_raised": lazy_gettext("Incident"),
        "incident_retried": lazy_gettext("Incident retried"),
        "incident_resolved": lazy_gettext("Incident resolved"),
    },
    "document": {
        "not_accepted_notice": lazy_gettext("Notice of non-acceptance"),
        "appointment_letter": lazy_gettext("Audit appointment"),
        "audit_report": lazy_gettext("Audit report"),
        "mystery_shopping_record": lazy_gettext("Mystery shopping record"),
        "random_survey_record": lazy_gettext("Random survey record"),
        "nc_report": lazy_gettext("Nonconformity report"),
        "nc_reminder": lazy_gettext("Nonconformity reminder"),
        "refusal_notice": lazy_gettext("Notice of refusal"),
        "surveillance_reminder": lazy_gettext("Surveillance reminder"),
        "extra_surveillance_trigger": lazy_gettext("Extra surveillance trigger"),
        "recertification_review": lazy_gettext("Recertification review of the ending cycle"),
    },
    # Star levels: 0 is the result of a score below the lowest level, never shown as "0".
    "star_level": {
        0: lazy_gettext("below the lowest star level"),
        1: lazy_gettext("one star"),
        2: lazy_gettext("two stars"),
        3: lazy_gettext("three stars"),
        4: lazy_gettext("four stars"),
        5: lazy_gettext("five stars"),
    },
    "status_badge": {  # badge colour of a status code
        "valid": "success",
        "certified": "success",
        "completed": "success",
        "accepted": "info",
        "contracted": "info",
        "running": "info",
        "in_progress": "info",
        "open": "info",
        "suspended": "warning",
        "planned": "warning",
        "submitted": "warning",
        "error": "danger",
        "withdrawn": "danger",
        "refused": "danger",
        "not_accepted": "danger",
        "terminated": "danger",
    },
}


# Codes whose (Chinese, English) labels the domain keeps with the rule they implement.
DOMAIN_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "suspension_reason": SUSPENSION_REASONS,
    "withdrawal_reason": WITHDRAWAL_REASONS,
    "cancellation_reason": CANCELLATION_REASONS,
    "change_kind": CHANGE_KINDS,
    "complaint_kind": COMPLAINT_KINDS,
}


def label(group: str, code: str | None) -> str:
    """The translated label of a stored code; the code itself when it has none."""
    if code is None:
        return ""
    pair = DOMAIN_LABELS.get(group, {}).get(str(code))
    if pair is not None:
        locale = get_locale()
        return pair[1] if locale is not None and locale.language == "en" else pair[0]
    value = LABELS.get(group, {}).get(code)
    return str(value) if value is not None else str(code)


def badge(code: str | None) -> str:
    colour = LABELS["status_badge"].get(code or "")
    return f"badge badge-{colour}" if colour else "badge"


def stars(level: int | None) -> str:
    return "★" * level if level else ""
