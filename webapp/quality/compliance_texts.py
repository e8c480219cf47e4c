"""The words of the compliance dashboard (issue 13): each indicator's title and what it
measures, and each breach reason, for people (never the indicator's key or a reason code)."""

from flask_babel import lazy_gettext as _l

TITLES = {
    "surveillance_interval": _l("Surveillance within 12 months, never beyond 15"),
    "suspension_resolved": _l("Suspension resolved within 6 months"),
    "complaint_answered": _l("Complaints answered within 30 days"),
    "nc_closed_in_time": _l("Nonconformities closed by their deadline"),
    "recertification_in_time": _l("Recertification decided before expiry"),
    "decision_independent": _l("Decision maker not on the audit team"),
    "registration_valid": _l("Auditor registration valid on every audit day"),
    "auditor_rotation": _l("Auditor rotation"),
    "status_published": _l("Every status change published"),
}

MEASURES = {
    "surveillance_interval": _l(
        "The first surveillance audit ends within 12 months of the certification decision; the "
        "second within 12 months of the end of the first, or with an approved extension, never "
        "beyond 15 months."
    ),
    "suspension_resolved": _l(
        "A suspension ends — restored, withdrawn, cancelled or reissued — by the last day of "
        "the 6 months that start on the day it took effect."
    ),
    "complaint_answered": _l(
        "A complaint or appeal is answered in writing within 30 days, the day of receipt "
        "being the first."
    ),
    "nc_closed_in_time": _l(
        "The client's correction and corrective action, accepted at verification, were "
        "answered by the nonconformity's deadline."
    ),
    "recertification_in_time": _l(
        "Recertification starts 3 months before expiry: a holder who asked for it is decided "
        "by the certificate's last valid day. A holder who declines is not counted."
    ),
    "decision_independent": _l(
        "The certification decision is taken by someone who did not take part in the audit."
    ),
    "registration_valid": _l(
        "Every auditor of a conducted audit (technical experts excepted) holds a registration "
        "valid on every day of the audit, as the register stood on that day."
    ),
    "auditor_rotation": _l(
        "The rules set no rotation limit: the scheduler only considers whether a member "
        "audited the organisation before when appointing the team. Nothing to count."
    ),
    "status_published": _l(
        "Every certification, suspension, restoration, withdrawal and cancellation is "
        "announced on the public registry within 5 days."
    ),
}

REASONS = {
    "late": _l("done late"),
    "missing": _l("not done"),
    "on_team": _l("decided by a member of the audit team"),
    "registration": _l("registration not valid on an audit day"),
}

EVENTS = {
    "surveillance_1": _l("first surveillance"),
    "surveillance_2": _l("second surveillance"),
    "issued": _l("certification"),
    "suspended": _l("suspension"),
    "restored": _l("restoration"),
    "withdrawn": _l("withdrawal"),
    "cancelled": _l("cancellation"),
}
