"""Certificate changes (R-9.3) and scope changes (R-9.4.1, R-9.4.2): the request rules of
certificate_change.bpmn (docs/complaints-and-changes.md), without Flask or the engine; the steps
are in `domain/change_steps.py`.

The client applies for a change of its certificate; the market department evaluates it; an
approved change reissues the certificate (domain.certificates.certificate_reissue: a new number,
the original issue date kept, the change date today, the old certificate `superseded` and
linked, an event on both, R-9.3).

Kinds of change (`ChangeRequest.kind`), what the request carries and what applying it does:

* `name`, `address`, `scope_text` — `new_value`, the new text: the organisation (name, address)
  and the certificate are changed;
* `downgrade` — `new_star_level`, an integer 1–5 below the held level: the new level and mark;
  published (R-14);
* `add_site` — `site` `{"name", "address", "is_fixed"}`: after an on-site audit of the new site
  that meets the held level (R-9.4.1) the site becomes active and joins the certificate's sites
  (the annex);
* `criteria` — nothing more: the certificate, issued under earlier certification criteria, is
  reissued naming the current ones (domain/criteria.py; R-9.3 认证依据发生变化);
* `remove_site` — `site_id`, an active site of the certificate (never its last one), and
  `request_letter_file`, the written request (R-9.4.2): the site becomes inactive, the old
  certificate is **cancelled** (rule R-9.4.2, recalled) and a new one issued without the site;
  published (R-14).

A downgrade on request carries the new level in the typed field `new_star_level` (an integer,
like `requested_level` in the application form), not as text in `new_value`; `new_value` is for
the three text changes only. Fields a kind does not use are null. `reason` (why the client asks)
is always required; `request_letter_file` may accompany any request and is required for
`remove_site`.

Who may ask (R-11): a client only for a certificate of its own organisation (staff, e.g. market,
for the client); the instance's business key is the number of a certificate of that
organisation. The submission validator `change_request_fits` (on Task_RequestChange) answers bad
requests with 422 field errors; `changes.register` enforces the same again (RuleViolation).

Statuses of a ChangeRequest: requested → approved | refused; approved → completed (applied) or
refused (the on-site audit of a new site did not meet the held level, or was terminated).
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.models import User
from domain.certificates import LEVELS, STATUS_LABELS, current_certificate, get_certificate
from domain.checks import optional_text, require_id
from domain.criteria import CURRENT as CURRENT_CRITERIA
from domain.criteria import names_current_criteria
from domain.errors import RuleViolation
from domain.models import Attachment, Audit, Certificate, ChangeRequest, Site

REFERENCE_PREFIX = "BG"  # 变更 BG-YYYY-NNNN
KINDS: dict[str, tuple[str, str]] = {
    "name": ("组织名称变更", "change of the organisation's name"),
    "address": ("地址变更", "change of address"),
    "scope_text": ("认证范围表述变更", "change of the scope wording"),
    "downgrade": ("申请降低星级", "downgrade on request"),
    "add_site": ("扩大认证范围：增加服务场所", "scope extension: a new service site"),
    "remove_site": ("缩小认证范围：减少服务场所", "scope reduction: a site dropped"),
    "criteria": ("认证依据变更：按新认证依据换发证书", "new certification criteria: reissue"),
}
TEXT_KINDS = ("name", "address", "scope_text")
# The longest value each text change may set (the columns of Organisation / Certificate).
TEXT_LIMITS = {"name": 300, "address": 500, "scope_text": 4000}
SITE_NAME_MAX, SITE_ADDRESS_MAX = 300, 500
# What each kind changes on the certificate (REISSUE_FIELDS of domain.certificates).
TEXT_FIELDS = {
    "name": "organisation_name",
    "address": "organisation_address",
    "scope_text": "scope",
}
# The rule a reissue of each kind applies (CertificateEvent.rule on the new certificate).
RULES = {
    "name": "R-9.3",
    "address": "R-9.3",
    "scope_text": "R-9.3",
    "downgrade": "R-9.3",
    "add_site": "R-9.4.1",
    "remove_site": "R-9.4.2",
    "criteria": "R-9.3",
}
OPEN_STATUSES = ("requested", "approved")
REFUSAL_KIND = "change_refusal_notice"
CHANGE_NOTICE_KIND = "certificate_change_notice"
SCOPE_REDUCED = "scope_reduced"  # Announcement.kind of a scope reduction
CLIENT_ROLE = "client"


# --- lookups -------------------------------------------------------------------------------------


def get_change(session: Session, change_id: Any) -> ChangeRequest:
    change = session.get(ChangeRequest, require_id(change_id, "change_id"))
    if change is None:
        raise LookupError(f"change request {change_id} not found")
    return change


def current_of(session: Session, certificate_id: Any) -> Certificate:
    """The certificate the client holds now for `certificate_id` (following reissues)."""
    return current_certificate(session, get_certificate(session, certificate_id))


def kind_label(kind: str) -> str:
    zh, en = KINDS[kind]
    return f"{zh} {en}"


def site_entry(site: Site) -> dict[str, Any]:
    """A site as the certificate lists it (the same shape certificate.issue writes)."""
    return {"id": site.id, "name": site.name, "address": site.address, "is_fixed": site.is_fixed}


def _certified_site_ids(certificate: Certificate) -> list[int]:
    return [site.get("id") for site in certificate.sites or [] if isinstance(site, Mapping)]


def access_problem(
    session: Session, certificate: Certificate, actor: str, business_key: str | None
) -> str | None:
    """R-11: a client acts only for its own organisation's certificate, and the instance is
    named after a certificate of that organisation (its tasks are shown to that client only)."""
    user = session.scalars(select(User).where(User.username == actor)).first()
    if (
        user is not None
        and user.roles == frozenset({CLIENT_ROLE})
        and user.organisation_id != certificate.organisation_id
    ):
        return (
            f"R-11: {actor} is a client of another organisation: it cannot ask for a change of "
            f"certificate {certificate.number}"
        )
    if business_key is not None:
        owner = session.scalar(
            select(Certificate.organisation_id).where(Certificate.number == business_key)
        )
        if owner != certificate.organisation_id:
            return (
                f"R-11: this case ({business_key}) is not a certificate of "
                f"{certificate.organisation_name}: start the change with the business key of the "
                "certificate to change"
            )
    return None


# --- the request and its rules -------------------------------------------------------------------

Problems = dict[str, list[str]]


def _add(problems: Problems, field: str, message: str) -> None:
    problems.setdefault(field, []).append(message)


def _must_be_null(problems: Problems, data: Mapping[str, Any], kind: str, fields: tuple) -> None:
    for field in fields:
        if data.get(field) is not None:
            _add(problems, field, f"R-9.3: a change of kind {kind} does not use {field}; send null")


def _text_problems(problems: Problems, certificate: Certificate, kind: str, value: Any) -> None:
    text = optional_text(value)
    if not text:
        _add(problems, "new_value", f"R-9.3: a change of kind {kind} needs the new value")
        return
    if len(text) > TEXT_LIMITS[kind]:
        _add(problems, "new_value", f"R-9.3: at most {TEXT_LIMITS[kind]} characters")
    if text == getattr(certificate, TEXT_FIELDS[kind]):
        _add(problems, "new_value", "R-9.3: the new value is what the certificate states already")


def _level_problems(problems: Problems, certificate: Certificate, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        _add(problems, "new_star_level", f"R-5: the new star level is 1–5, got {value!r}")
    elif value >= certificate.star_level:
        _add(
            problems,
            "new_star_level",
            f"R-9.3: a downgrade asks for a level below the held level {certificate.star_level} "
            f"(got {value})",
        )


def _new_site_problems(
    problems: Problems, session: Session, certificate: Certificate, value: Any
) -> None:
    if not isinstance(value, Mapping):
        _add(problems, "site", "R-9.4.1: a new site needs its name, address and is_fixed")
        return
    name, address = optional_text(value.get("name")), optional_text(value.get("address"))
    if not name or len(name) > SITE_NAME_MAX:
        _add(problems, "site/name", f"R-9.4.1: the site's name (1–{SITE_NAME_MAX} characters)")
    if not address or len(address) > SITE_ADDRESS_MAX:
        _add(problems, "site/address", f"R-9.4.1: the site's address (1–{SITE_ADDRESS_MAX} chars)")
    if not isinstance(value.get("is_fixed"), bool):
        _add(problems, "site/is_fixed", "R-9.4.1: is_fixed must be true or false")
    duplicate = session.scalars(
        select(Site.id).where(
            Site.organisation_id == certificate.organisation_id,
            Site.active.is_(True),
            Site.name == name,
            Site.address == address,
        )
    ).first()
    if name and address and duplicate is not None:
        _add(problems, "site", f"R-9.4.1: {name} ({address}) is already a site (#{duplicate})")


def removed_site_problems(
    problems: Problems, session: Session, certificate: Certificate, value: Any
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _add(problems, "site_id", "R-9.4.2: name the site to drop (its id)")
        return
    site = session.get(Site, value)
    certified = _certified_site_ids(certificate)
    if site is None or site.organisation_id != certificate.organisation_id:
        _add(problems, "site_id", f"R-9.4.2: site {value} is not a site of the client")
    elif not site.active or value not in certified:
        _add(
            problems,
            "site_id",
            f"R-9.4.2: site {value} ({site.name}) is not an active site of certificate "
            f"{certificate.number} (sites {certified})",
        )
    elif len(certified) < 2:
        _add(
            problems,
            "site_id",
            f"R-9.4.2: {site.name} is the certificate's last site: it cannot be dropped (the "
            "client gives the certificate up instead, R-9.5.3c)",
        )


def _letter_problems(
    problems: Problems, session: Session, certificate: Certificate, kind: str, value: Any
) -> None:
    if value is None:
        if kind == "remove_site":
            _add(
                problems,
                "request_letter_file",
                "R-9.4.2: a scope reduction needs the client's written request (upload it)",
            )
        return
    if isinstance(value, bool) or not isinstance(value, int):
        _add(problems, "request_letter_file", f"R-9.4.2: {value!r} is not a file id")
        return
    attachment = session.get(Attachment, value)
    if attachment is None:
        _add(problems, "request_letter_file", f"R-9.4.2: there is no uploaded file {value}")
    elif attachment.organisation_id not in (None, certificate.organisation_id):
        _add(problems, "request_letter_file", f"R-11: file {value} belongs to another case")


def request_problems(
    session: Session,
    certificate: Certificate,
    data: Mapping[str, Any],
    actor: str,
    business_key: str | None,
) -> Problems:
    """Every rule a change request breaks, as field errors naming the rule (empty: fine)."""
    problems: Problems = {}
    denied = access_problem(session, certificate, actor, business_key)
    if denied:
        _add(problems, "kind", denied)
        return problems
    if certificate.status != "valid":
        _add(
            problems,
            "kind",
            f"R-9.3: certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: "
            "only a valid certificate is changed (a suspended one is restored first)",
        )
        return problems
    kind = data.get("kind")
    if kind not in KINDS:
        _add(problems, "kind", f"R-9.3: kind must be one of {list(KINDS)}, got {kind!r}")
        return problems
    if not optional_text(data.get("reason")):
        _add(problems, "reason", "R-9.3: say why the change is asked for")
    if kind in TEXT_KINDS:
        _text_problems(problems, certificate, kind, data.get("new_value"))
        _must_be_null(problems, data, kind, ("new_star_level", "site", "site_id"))
    elif kind == "downgrade":
        _level_problems(problems, certificate, data.get("new_star_level"))
        _must_be_null(problems, data, kind, ("new_value", "site", "site_id"))
    elif kind == "add_site":
        _new_site_problems(problems, session, certificate, data.get("site"))
        _must_be_null(problems, data, kind, ("new_value", "new_star_level", "site_id"))
    elif kind == "criteria":
        if names_current_criteria(certificate):
            _add(
                problems,
                "kind",
                f"R-9.3: certificate {certificate.number} already names the current certification "
                f"criteria ({CURRENT_CRITERIA.standard}; {CURRENT_CRITERIA.rules})",
            )
        _must_be_null(problems, data, kind, ("new_value", "new_star_level", "site", "site_id"))
    else:  # remove_site
        removed_site_problems(problems, session, certificate, data.get("site_id"))
        _must_be_null(problems, data, kind, ("new_value", "new_star_level", "site"))
    _letter_problems(problems, session, certificate, kind, data.get("request_letter_file"))
    return problems


def raise_first(problems: Problems) -> None:
    if not problems:
        return
    messages = [f"{field}: {message}" for field, items in problems.items() for message in items]
    first = next(iter(problems.values()))[0]
    rule = first.split(":", 1)[0] if first.startswith("R-") else "R-9.3"
    raise RuleViolation(rule, "; ".join(messages))


def certificate_facts(certificate: Certificate) -> dict[str, Any]:
    return {
        "id": certificate.id,
        "number": certificate.number,
        "status": certificate.status,
        "organisation_id": certificate.organisation_id,
        "organisation_name": certificate.organisation_name,
        "organisation_address": certificate.organisation_address,
        "scope": certificate.scope,
        "star_level": certificate.star_level,
        "issued_on": certificate.issued_on.isoformat(),
        "original_issued_on": certificate.original_issued_on.isoformat(),
        "changed_on": certificate.changed_on.isoformat() if certificate.changed_on else None,
        "expires_on": certificate.expires_on.isoformat(),
        "sites": [dict(site) for site in certificate.sites or []],
        "standard": certificate.standard,
        "rules": certificate.rules,
        # a certificate under earlier criteria may ask to be reissued under CURRENT.
        "current_criteria": CURRENT_CRITERIA.as_dict(),
        "criteria_current": names_current_criteria(certificate),
    }


def refusal_reason(session: Session, change: ChangeRequest) -> tuple[str, dict[str, Any]]:
    """Why the change is refused: the evaluation, or the on-site audit of a new site."""
    if change.status == "refused":
        return change.evaluation, {"refused_by": change.evaluated_by, "stage": "evaluation"}
    audit = session.get(Audit, change.audit_id) if change.audit_id else None
    held = (change.details or {}).get("held_level")
    if audit is None:
        raise RuleViolation(
            "R-9.3", f"change {change.reference} is {change.status}: there is nothing to refuse"
        )
    if audit.status == "terminated":
        text = (
            f"新场所的现场审查已终止（{audit.termination_reason}） the on-site audit of the new "
            f"site was terminated ({audit.termination_reason})"
        )
    else:
        text = (
            f"新场所的现场审查达到 {audit.star_level_achieved} 星，低于持有星级 {held} 星 the "
            f"on-site audit of the new site reached level {audit.star_level_achieved}, below the "
            f"held level {held} (R-9.4.1)"
        )
    return text, {
        "stage": "site_audit",
        "audit_id": audit.id,
        "audit_status": audit.status,
        "star_level_achieved": audit.star_level_achieved,
        "held_level": held,
    }


def site_audit_problems(data: Mapping[str, Any]) -> Problems:
    """R-9.4.1: the audit plan of a scope extension audits the new site (audit.record_plan then
    checks that every active site is covered, R-7.3)."""
    site_audit = data.get("site_audit")
    if not isinstance(site_audit, Mapping) or site_audit.get("site_id") is None:
        return {}
    activities = data.get("activities")
    planned = {
        activity.get("site")
        for activity in (activities if isinstance(activities, list) else [])
        if isinstance(activity, Mapping)
    }
    if site_audit["site_id"] in planned:
        return {}
    return {
        "activities": [
            f"R-9.4.1: the plan must audit the new site {site_audit.get('site_name')} "
            f"(#{site_audit['site_id']})"
        ]
    }
