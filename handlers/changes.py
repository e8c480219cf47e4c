"""Handlers: certificate changes (R-9.3) and scope changes (R-9.4.1, R-9.4.2) — the service tasks
and validators of certificate_change.bpmn (docs/complaints-and-changes.md).

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

from certflow.dates import china_date
from certflow.models import User
from domain.certificates import (
    LEVELS,
    STATUS_LABELS,
    certificate_reissue,
    change_status,
    current_certificate,
    get_certificate,
    publish,
)
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.models import Attachment, Audit, Certificate, ChangeRequest, Organisation, Site
from domain.numbering import next_number
from domain.surveillance import programme_of
from handlers.audit import optional_text, require_id
from handlers.registry import GuardContext, HandlerContext, handler, validator

REFERENCE_PREFIX = "BG"  # 变更 BG-YYYY-NNNN
KINDS: dict[str, tuple[str, str]] = {
    "name": ("组织名称变更", "change of the organisation's name"),
    "address": ("地址变更", "change of address"),
    "scope_text": ("认证范围表述变更", "change of the scope wording"),
    "downgrade": ("申请降低星级", "downgrade on request"),
    "add_site": ("扩大认证范围：增加服务场所", "scope extension: a new service site"),
    "remove_site": ("缩小认证范围：减少服务场所", "scope reduction: a site dropped"),
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


def _kind_label(kind: str) -> str:
    zh, en = KINDS[kind]
    return f"{zh} {en}"


def _site_entry(site: Site) -> dict[str, Any]:
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


def _removed_site_problems(
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
    else:  # remove_site
        _removed_site_problems(problems, session, certificate, data.get("site_id"))
        _must_be_null(problems, data, kind, ("new_value", "new_star_level", "site"))
    _letter_problems(problems, session, certificate, kind, data.get("request_letter_file"))
    return problems


def _raise_first(problems: Problems) -> None:
    if not problems:
        return
    messages = [f"{field}: {message}" for field, items in problems.items() for message in items]
    first = next(iter(problems.values()))[0]
    rule = first.split(":", 1)[0] if first.startswith("R-") else "R-9.3"
    raise RuleViolation(rule, "; ".join(messages))


def _certificate_facts(certificate: Certificate) -> dict[str, Any]:
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
    }


# --- certificate_change.bpmn ---------------------------------------------------------------------


@handler("changes.describe_certificate")
def describe_certificate(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """The certificate the client holds now (following reissues), for the request form: its
    number, name, address, scope, level and sites with their ids. R-11: only for a client of
    the certificate's organisation (or staff); names the instance after the certificate."""
    certificate = current_of(ctx.session, params.get("certificate_id"))
    denied = access_problem(ctx.session, certificate, ctx.actor, ctx.business_key)
    if denied:
        raise RuleViolation("R-11", denied.removeprefix("R-11: "))
    ctx.set_business_key(certificate.number)
    return _certificate_facts(certificate)


@handler("changes.register")
def register(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-9.3, R-9.4: register the client's request (reference BG-YYYY-NNNN, who, when, what)
    after checking it (the rules of `request_problems`). → `{"id", "reference",
    "needs_onsite_audit", ...}`; a new site needs an on-site audit (R-9.4.1)."""
    certificate = current_of(ctx.session, params.get("certificate_id"))
    _raise_first(request_problems(ctx.session, certificate, params, ctx.actor, ctx.business_key))
    kind = params["kind"]
    today = china_date(ctx.now)
    details: dict[str, Any] = {
        "certificate_number": certificate.number,
        "reason": optional_text(params.get("reason")),
        "request_letter_file": params.get("request_letter_file"),
        "held_level": certificate.star_level,
    }
    if kind in TEXT_KINDS:
        details["new_value"] = optional_text(params.get("new_value"))
        details["old_value"] = getattr(certificate, TEXT_FIELDS[kind])
    elif kind == "downgrade":
        details["new_star_level"] = params["new_star_level"]
    elif kind == "add_site":
        site = params["site"]
        details["site"] = {
            "name": optional_text(site.get("name")),
            "address": optional_text(site.get("address")),
            "is_fixed": site.get("is_fixed"),
        }
    else:
        site = ctx.session.get(Site, params["site_id"])
        details["site_id"] = site.id
        details["site"] = _site_entry(site)
    letter_id = params.get("request_letter_file")
    if letter_id is not None:
        letter = ctx.session.get(Attachment, letter_id)
        letter.organisation_id = certificate.organisation_id
    change = ChangeRequest(
        reference=next_number(ctx.session, ChangeRequest.reference, REFERENCE_PREFIX, today.year),
        certificate_id=certificate.id,
        organisation_id=certificate.organisation_id,
        kind=kind,
        details=details,
        requested_by=ctx.actor,
        requested_at=ctx.now,
        status="requested",
    )
    ctx.session.add(change)
    ctx.session.flush()
    ctx.set_business_key(certificate.number)
    return {
        "id": change.id,
        "reference": change.reference,
        "kind": kind,
        "needs_onsite_audit": kind == "add_site",
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
    }


@handler("changes.evaluate")
def evaluate(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-9.3: the CB evaluates the request: approved or refused, the evaluation (required either
    way), by whom and when (R-13). Only a valid certificate's change is approved."""
    change = get_change(ctx.session, params.get("change_id"))
    if change.status != "requested":
        raise RuleViolation(
            "R-9.3",
            f"change {change.reference} is {change.status}: it was evaluated already "
            f"(by {change.evaluated_by})",
        )
    approved = params.get("approved")
    if not isinstance(approved, bool):
        raise RuleViolation("R-9.3", f"approved must be true or false, got {approved!r}")
    evaluation = optional_text(params.get("evaluation"))
    if not evaluation:
        raise RuleViolation("R-9.3", "the evaluation is required (what was checked, and why)")
    if approved:
        certificate = current_of(ctx.session, change.certificate_id)
        if certificate.status != "valid":
            raise RuleViolation(
                "R-9.3",
                f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: "
                "a change of it cannot be approved (refuse it, or restore the certificate first)",
            )
    change.status = "approved" if approved else "refused"
    change.evaluation = evaluation
    change.evaluated_by = ctx.actor
    change.evaluated_at = ctx.now
    return {"approved": approved, "status": change.status, "reference": change.reference}


def _refusal_reason(session: Session, change: ChangeRequest) -> tuple[str, dict[str, Any]]:
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


@handler("changes.notify_refusal")
def notify_refusal(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-9.3: the written notice that the change is refused — after the evaluation, or because
    the on-site audit of a new site did not meet the held level or was terminated (R-9.4.1; the
    site stays out of the certificate). The certificate is unchanged."""
    change = get_change(ctx.session, params.get("change_id"))
    if change.status not in ("refused", "approved"):
        raise RuleViolation("R-9.3", f"change {change.reference} is {change.status}")
    reason, facts = _refusal_reason(ctx.session, change)
    change.status = "refused"
    certificate = current_of(ctx.session, change.certificate_id)
    details = dict(change.details or {})
    document = create_document(
        ctx.session,
        kind=REFUSAL_KIND,
        title=f"变更不予批准通知 Change refused — {change.reference}",
        lines=[
            f"# 变更不予批准通知 Change refused — {change.reference}",
            f"{certificate.organisation_name}：",
            "",
            f"- 证书 Certificate: {certificate.number}（不变 unchanged）",
            f"- 申请事项 Requested: {_kind_label(change.kind)}",
            f"- 申请日期 Requested on: {china_date(change.requested_at).isoformat()}",
            f"- 理由 Reasons: {reason}",
            "",
            "如对本决定有异议，可向本机构提出申诉。 If you disagree with this decision you may "
            "appeal to the certification body.",
        ],
        organisation_id=change.organisation_id,
        application_id=certificate.application_id,
        audit_id=change.audit_id,
        data={
            "change_reference": change.reference,
            "kind": change.kind,
            "certificate_number": certificate.number,
            "reason": reason,
            **facts,
        },
        created_by=ctx.actor,
        now=ctx.now,
    )
    details["refusal"] = {"reason": reason, "document_id": document.id, **facts}
    change.details = details
    return {"document_id": document.id, "status": change.status}


@handler("changes.prepare_site_audit")
def prepare_site_audit(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-9.4.1: a new site is audited on site as for an initial audit before it joins the
    certificate: the site is recorded (inactive until the change is applied) and a special
    `Audit` of the certificate is created (no dates yet: the appointment sets them).
    → `site_audit` = `{"audit_id", "application_id", "organisation_id", "programme_id",
    "certificate_id", "held_level", "site_id", "site_name"}`."""
    change = get_change(ctx.session, params.get("change_id"))
    if change.kind != "add_site" or change.status != "approved":
        raise RuleViolation(
            "R-9.4.1",
            f"change {change.reference} ({change.kind}, {change.status}) is not an approved new "
            "site",
        )
    if change.audit_id is not None:
        raise RuleViolation(
            "R-9.4.1", f"change {change.reference} has its site audit already ({change.audit_id})"
        )
    certificate = current_of(ctx.session, change.certificate_id)
    if certificate.status != "valid":
        raise RuleViolation(
            "R-9.4.1",
            f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}",
        )
    details = dict(change.details or {})
    wanted = details["site"]
    site = Site(
        organisation_id=certificate.organisation_id,
        name=wanted["name"],
        address=wanted["address"],
        is_fixed=wanted["is_fixed"],
        active=False,  # certified only when the change is applied
    )
    ctx.session.add(site)
    programme = programme_of(ctx.session, certificate)
    audit = Audit(
        programme_id=programme.id,
        application_id=certificate.application_id,
        organisation_id=certificate.organisation_id,
        kind="special",
        certificate_id=certificate.id,
        scope=f"扩大认证范围：新增服务场所 {site.name} scope extension: new site {site.name}",
        status="planned",
    )
    ctx.session.add(audit)
    ctx.session.flush()
    details["site_id"] = site.id
    change.details = details
    change.audit_id = audit.id
    return {
        "audit_id": audit.id,
        "application_id": audit.application_id,
        "organisation_id": audit.organisation_id,
        "programme_id": programme.id,
        "certificate_id": certificate.id,
        "held_level": certificate.star_level,
        "site_id": site.id,
        "site_name": site.name,
    }


def _audited_site(session: Session, change: ChangeRequest, certificate: Certificate) -> Site:
    """R-9.4.1: the new site passed its on-site audit: completed, at least the held level, the
    site in the audit plan."""
    audit = session.get(Audit, change.audit_id) if change.audit_id else None
    site_id = (change.details or {}).get("site_id")
    site = session.get(Site, site_id) if site_id else None
    if audit is None or site is None:
        raise RuleViolation("R-9.4.1", f"change {change.reference}: the new site was not audited")
    if audit.status != "completed" or (audit.star_level_achieved or 0) < certificate.star_level:
        raise RuleViolation(
            "R-9.4.1",
            f"the on-site audit of {site.name} is {audit.status} at level "
            f"{audit.star_level_achieved}; the held level is {certificate.star_level}",
        )
    planned = {activity.get("site") for activity in (audit.plan or {}).get("activities", [])}
    if site.id not in planned:
        raise RuleViolation("R-9.4.1", f"the audit plan of audit {audit.id} omits {site.name}")
    return site


def _reissue(
    ctx: HandlerContext, change: ChangeRequest, certificate: Certificate
) -> tuple[Certificate, Site | None]:
    """The new certificate for the change (and the site it adds or drops)."""
    details = change.details or {}
    kind, rule = change.kind, RULES[change.kind]
    reason = f"{change.reference} {_kind_label(kind)}"
    star_level, changes, event, site = None, {}, "reissued", None
    organisation = ctx.session.get(Organisation, certificate.organisation_id)
    if kind in TEXT_KINDS:
        changes[TEXT_FIELDS[kind]] = details["new_value"]
        if kind == "name":
            organisation.name = details["new_value"]
        elif kind == "address":
            organisation.address = details["new_value"]
    elif kind == "downgrade":
        level = details["new_star_level"]
        if level >= certificate.star_level:
            raise RuleViolation(
                "R-9.3", f"level {level} is not below the held level {certificate.star_level}"
            )
        star_level, event = level, "downgraded"
    elif kind == "add_site":
        site = _audited_site(ctx.session, change, certificate)
        site.active = True
        changes["sites"] = [*(certificate.sites or []), _site_entry(site)]
    else:  # remove_site
        problems: Problems = {}
        _removed_site_problems(problems, ctx.session, certificate, details["site_id"])
        _raise_first(problems)
        site = ctx.session.get(Site, details["site_id"])
        site.active = False
        changes["sites"] = [s for s in certificate.sites or [] if s.get("id") != site.id]
    new = certificate_reissue(
        ctx.session,
        certificate,
        star_level=star_level,
        changes=changes,
        actor=ctx.actor,
        now=ctx.now,
        rule=rule,
        event=event,
        reason=reason,
    )
    return new, site


@handler("changes.apply")
def apply(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-9.3, R-9.4.1, R-9.4.2: apply an approved change by reissuing the certificate (original
    issue date kept, change date today, the old one superseded and linked, events on both).
    A dropped site (R-9.4.2): the old certificate is cancelled and recalled (event `cancelled`,
    rule R-9.4.2) and the new one issued; a scope reduction and a downgrade are published
    (R-14). The client gets a written notice of the new certificate."""
    change = get_change(ctx.session, params.get("change_id"))
    if change.status != "approved":
        raise RuleViolation(
            "R-9.3", f"change {change.reference} is {change.status}: only an approved change"
        )
    old = current_of(ctx.session, change.certificate_id)
    new, site = _reissue(ctx, change, old)
    announcement = None
    if change.kind == "remove_site":
        change_status(
            ctx.session,
            old,
            status="cancelled",
            event="cancelled",
            rule="R-9.4.2",
            actor=ctx.actor,
            now=ctx.now,
            reason=(
                f"缩小认证范围（{site.name}），原证书注销并收回，换发 {new.number} scope reduced "
                f"({site.name}): the certificate is cancelled and recalled, replaced by "
                f"{new.number}"
            ),
            mark_use_allowed=False,
            sites=[site.id],
            data={
                "recalled": True,
                "change_reference": change.reference,
                "removed_site": _site_entry(site),
                "replaced_by_id": new.id,
                "replaced_by_number": new.number,
            },
        )
        announcement = _announce_scope_reduced(ctx, old, new, site)
    elif change.kind == "downgrade":
        announcement = _announce_downgrade(ctx, old, new)
    notice = _change_notice(ctx, change, old, new, site)
    change.status = "completed"
    change.new_certificate_id = new.id
    change.details = {**(change.details or {}), "notice_document_id": notice.id}
    return {
        "certificate_id": new.id,
        "certificate_number": new.number,
        "replaced_certificate_id": old.id,
        "replaced_certificate_number": old.number,
        "replaced_status": old.status,
        "original_issued_on": new.original_issued_on.isoformat(),
        "changed_on": new.changed_on.isoformat(),
        "star_level": new.star_level,
        "site_id": site.id if site is not None else None,
        "announcement_id": announcement.id if announcement is not None else None,
        "document_id": notice.id,
    }


def _dates_line(new: Certificate) -> str:
    return (
        f"初次发证 First issued: {new.original_issued_on.isoformat()}; 变更 Changed: "
        f"{new.changed_on.isoformat()}; 有效期至 Valid until: {new.expires_on.isoformat()}"
    )


def _announce_downgrade(ctx: HandlerContext, old: Certificate, new: Certificate):
    return publish(
        ctx.session,
        new,
        kind="downgraded",
        now=ctx.now,
        title=f"降级公告 Downgraded: {new.organisation_name} ({new.number})",
        lines=[
            f"{new.organisation_name} 申请将认证星级由 {old.star_level} 星降为 "
            f"{new.star_level} 星，换发证书 {new.number}（替代 {old.number}）。",
            f"{new.organisation_name}: level {old.star_level} → {new.star_level} stars at the "
            f"client's request; certificate {new.number} replaces {old.number}.",
            _dates_line(new),
        ],
    )


def _announce_scope_reduced(ctx: HandlerContext, old: Certificate, new: Certificate, site: Site):
    return publish(
        ctx.session,
        new,
        kind=SCOPE_REDUCED,
        now=ctx.now,
        title=f"缩小认证范围公告 Scope reduced: {new.organisation_name} ({new.number})",
        lines=[
            f"{new.organisation_name} 的认证范围不再包括服务场所 {site.name}（{site.address}）。"
            f"原证书 {old.number} 注销并收回，换发证书 {new.number}。",
            f"{new.organisation_name}: the site {site.name} is no longer certified. Certificate "
            f"{old.number} is cancelled and recalled; {new.number} is issued.",
            f"依据 Clause: R-9.4.2 · {_dates_line(new)}",
        ],
    )


def _change_notice(
    ctx: HandlerContext,
    change: ChangeRequest,
    old: Certificate,
    new: Certificate,
    site: Site | None,
):
    lines = [
        f"# 证书变更通知 Certificate changed — {change.reference}",
        f"{new.organisation_name}：",
        "",
        f"- 变更事项 Change: {_kind_label(change.kind)}",
        f"- 新证书 New certificate: {new.number}（替代 replaces {old.number}）",
        f"- {_dates_line(new)}",
    ]
    if change.kind == "remove_site":
        lines.append(
            f"- 原证书 {old.number} 已注销，请将原证书交回本机构，停止使用。 Certificate "
            f"{old.number} is cancelled: return it to the certification body and stop using it "
            "(recall, R-9.4.2)."
        )
    else:
        lines.append(
            f"- 原证书 {old.number} 已被替换，停止使用。 Certificate {old.number} is replaced: "
            "stop using it."
        )
    return create_document(
        ctx.session,
        kind=CHANGE_NOTICE_KIND,
        title=f"证书变更通知 Certificate changed — {new.number}",
        lines=lines,
        organisation_id=new.organisation_id,
        application_id=new.application_id,
        audit_id=change.audit_id,
        data={
            "change_reference": change.reference,
            "kind": change.kind,
            "new_certificate": new.number,
            "replaced_certificate": old.number,
            "replaced_status": old.status,
            "recall": change.kind == "remove_site",
            "site_id": site.id if site is not None else None,
        },
        created_by=ctx.actor,
        now=ctx.now,
    )


# --- validators ----------------------------------------------------------------------------------


@validator("change_request_fits")
def change_request_fits(ctx: GuardContext) -> dict[str, list[str]]:
    """The change request form against the rules (422 before the task completes): the kind's
    value, level, site or written request; R-11 (own organisation's certificate); a valid
    certificate. changes.register enforces the same again."""
    try:
        certificate = current_of(ctx.session, ctx.data.get("certificate_id"))
    except (LookupError, ValueError) as err:
        return {"kind": [f"R-9.3: {err}"]}
    return request_problems(ctx.session, certificate, ctx.data, ctx.actor, ctx.business_key)


@validator("site_audit_covers_new_site")
def site_audit_covers_new_site(ctx: GuardContext) -> dict[str, list[str]]:
    """R-9.4.1: the audit plan of a scope extension audits the new site (audit.record_plan then
    checks that every active site is covered, R-7.3)."""
    site_audit = ctx.data.get("site_audit")
    if not isinstance(site_audit, Mapping) or site_audit.get("site_id") is None:
        return {}
    activities = ctx.data.get("activities")
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
