"""Handlers: application (see docs/initial-certification.md).

`application.register` (R-6.1), `application.record_review` (R-6.2.1, R-6.2.2),
`application.close_terminated` (R-8.5.6) and `notices.not_accepted` (R-6.2.2b).

The parameter readers at the top are shared by the other handler modules of the initial
certification (contract, programme, team): a parameter the BPMN does not pass is a modelling
error (`MissingParameter`); a value that breaks a rule of the scheme is a `RuleViolation` naming
the rule (defence in depth: the forms refuse most bad input first).
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from certflow.db import db
from certflow.models import User
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Application, Attachment, Audit, Certificate, Organisation, Site
from domain.numbering import next_number
from domain.uscc import uscc_error
from handlers.registry import HandlerContext, handler

ISSUING_BODY = "首认检测认证/CTC"
LEVELS = range(1, 6)  # 一星级 … 五星级

# materials: parameter → attachment kind; (1)–(3) are mandatory, (4) optional.
MATERIALS: tuple[tuple[str, str, str, bool, bool], ...] = (
    # parameter, kind, label, many files, mandatory
    ("legal_status_file", "legal_status", "(1) 法律地位证明 legal status proof", False, True),
    (
        "service_documents_files",
        "service_documents",
        "(2) 服务流程管理文件和服务标准与技术规范 service documents",
        True,
        True,
    ),
    (
        "service_flowchart_file",
        "service_flowchart",
        "(3) 服务流程图 service flow chart",
        False,
        True,
    ),
    (
        "other_certificate_files",
        "other_certificates",
        "(4) 其他第三方认证证书 other certificates",
        True,
        False,
    ),
)

ModelT = TypeVar("ModelT", bound=db.Model)


# -- parameter readers ------------------------------------------------------------------------
class MissingParameter(KeyError):
    """The BPMN service task does not pass a parameter the operator needs."""

    def __str__(self) -> str:
        return str(self.args[0])


def param(params: Mapping[str, Any], name: str) -> Any:
    if name not in params:
        raise MissingParameter(
            f"parameter {name!r} missing: the service task must pass it "
            "(docs/initial-certification.md)"
        )
    return params[name]


def id_param(params: Mapping[str, Any], name: str) -> int:
    value = param(params, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise TypeError(f"parameter {name!r} must be a positive integer id, got {value!r}")
    return value


def _fits(value: str, name: str, rule: str, max_length: int | None) -> str:
    if max_length is not None and len(value) > max_length:
        raise RuleViolation(
            rule, f"parameter {name!r} is longer than {max_length} characters ({len(value)})"
        )
    return value


def text_param(
    params: Mapping[str, Any], name: str, rule: str, label: str, max_length: int | None = None
) -> str:
    """A required, non-blank string (stripped), at most `max_length` characters."""
    value = param(params, name)
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(rule, f"{label} 必须填写 must be given (parameter {name!r})")
    return _fits(value.strip(), name, rule, max_length)


def optional_text_param(
    params: Mapping[str, Any], name: str, rule: str = "", max_length: int | None = None
) -> str:
    """A string that may be empty or null (passed all the same)."""
    value = param(params, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"parameter {name!r} must be a string, got {type(value).__name__}")
    return _fits(value.strip(), name, rule, max_length)


def flag_param(params: Mapping[str, Any], name: str, rule: str) -> bool:
    value = param(params, name)
    if not isinstance(value, bool):
        raise RuleViolation(rule, f"parameter {name!r} must be true or false, got {value!r}")
    return value


def int_param(params: Mapping[str, Any], name: str, rule: str, label: str) -> int:
    value = param(params, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleViolation(rule, f"{label} must be a whole number (parameter {name!r}): {value!r}")
    return value


def date_param(params: Mapping[str, Any], name: str, rule: str, label: str) -> date:
    """An ISO date string such as "2026-03-10"."""
    value = param(params, name)
    if not isinstance(value, str) or not value:
        raise RuleViolation(rule, f"{label} 必须填写 must be given (parameter {name!r})")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            rule, f"{label} 不是有效日期 is not an ISO date (YYYY-MM-DD): {value!r}"
        ) from None


def decimal_param(
    params: Mapping[str, Any],
    name: str,
    rule: str,
    label: str,
    *,
    optional: bool = False,
    places: int = 1,
    digits: int = 6,
) -> Decimal | None:
    """A number (int, float or numeric string) as an exact Decimal with at most `places`
    decimals and `digits` digits in all (the column's precision); None only when optional."""
    value = param(params, name)
    if value is None or value == "":
        if optional:
            return None
        raise RuleViolation(rule, f"{label} 必须填写 must be given (parameter {name!r})")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleViolation(rule, f"{label} must be a number (parameter {name!r}): {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RuleViolation(
            rule, f"{label} must be a number (parameter {name!r}): {value!r}"
        ) from None
    if not number.is_finite():
        raise RuleViolation(rule, f"{label} must be a finite number: {value!r}")
    limit = Decimal(10) ** (digits - places)
    if abs(number) >= limit or number != number.quantize(Decimal(1).scaleb(-places)):
        raise RuleViolation(
            rule, f"{label} must have at most {places} decimal(s) and be below {limit}: {value!r}"
        )
    return number


def load(session: Session, model: type[ModelT], row_id: int) -> ModelT:
    row = session.get(model, row_id)
    if row is None:
        raise LookupError(f"{model.__tablename__} {row_id} not found")
    return row


def zh_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


# -- application.register (R-6.1) ------------------------------------------------------------
def _organisation_for(params: Mapping[str, Any], ctx: HandlerContext) -> Organisation:
    """Find the organisation by its unified social credit code, or create it; update its
    name, address and contact from the application either way."""
    uscc = param(params, "uscc")
    problem = uscc_error(uscc)
    if problem:
        raise RuleViolation("R-6.1", problem)
    details = {
        "name": text_param(params, "org_name", "R-6.1", "申请组织名称 organisation name", 300),
        "address": text_param(params, "address", "R-6.1", "地址 address", 500),
        "contact_name": text_param(params, "contact_name", "R-6.1", "联系人 contact", 100),
        "contact_phone": optional_text_param(params, "contact_phone", "R-6.1", 50),
        "contact_email": optional_text_param(params, "contact_email", "R-6.1", 200),
    }
    organisation = ctx.session.scalars(
        select(Organisation).where(Organisation.uscc == uscc)
    ).first()
    if organisation is None:
        organisation = Organisation(uscc=uscc, created_at=ctx.now, **details)
        ctx.session.add(organisation)
        ctx.session.flush()
    _check_client_belongs(ctx, organisation)
    for field, value in details.items():
        setattr(organisation, field, value)
    ctx.session.flush()
    return organisation


def _check_client_belongs(ctx: HandlerContext, organisation: Organisation) -> None:
    """R-11: a client user applies only for its own organisation. A client account without an
    organisation is linked to it by its first application, unless other client accounts
    already belong to that organisation (then an administrator must link it)."""
    user = ctx.session.scalars(select(User).where(User.username == ctx.actor)).first()
    if user is None or not user.has_role("client"):
        return  # staff applying on a client's behalf
    if user.organisation_id == organisation.id:
        return
    if user.organisation_id is not None:
        raise RuleViolation(
            "R-11", "客户只能为本组织申请 a client may apply only for its own organisation"
        )
    others = ctx.session.scalars(
        select(User.id).where(User.organisation_id == organisation.id, User.id != user.id)
    ).first()
    if others is not None:
        raise RuleViolation(
            "R-11",
            "该组织已有客户账号，请联系管理员关联 the organisation already has client accounts; "
            "an administrator must link this one",
        )
    user.organisation_id = organisation.id


def _site_entries(params: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    sites = param(params, "sites")
    if not isinstance(sites, list) or not sites:
        raise RuleViolation("R-6.1", "至少填写一个服务场所 at least one service site is needed")
    entries = []
    for number, site in enumerate(sites, 1):
        if not isinstance(site, Mapping):
            raise RuleViolation("R-6.1", f"service site {number} must be an object, got {site!r}")
        name, address, is_fixed = site.get("name"), site.get("address"), site.get("is_fixed")
        if not isinstance(name, str) or not name.strip():
            raise RuleViolation("R-6.1", f"服务场所 {number} 缺少名称 site {number} has no name")
        if not isinstance(address, str) or not address.strip():
            raise RuleViolation("R-6.1", f"服务场所 {number} 缺少地址 site {number} has no address")
        if not isinstance(is_fixed, bool):
            raise RuleViolation("R-6.1", f"site {number}: is_fixed must be true or false")
        if len(name.strip()) > 300 or len(address.strip()) > 500:
            raise RuleViolation("R-6.1", f"site {number}: name or address is too long")
        entries.append((name.strip(), address.strip(), is_fixed))
    return entries


def _register_sites(
    session: Session, organisation: Organisation, entries: list[tuple[str, str, bool]]
) -> None:
    """Create the sites; a site the organisation already has (same name and address) is
    reused (and reactivated) rather than duplicated."""
    existing = {(site.name, site.address): site for site in organisation.sites}
    for name, address, is_fixed in entries:
        site = existing.get((name, address))
        if site is None:
            site = Site(organisation_id=organisation.id, name=name, address=address)
            session.add(site)
            existing[(name, address)] = site
        site.is_fixed = is_fixed
        site.active = True
    session.flush()
    session.expire(organisation, ["sites"])


def _material_ids(params: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    """(attachment id, kind, label) for every material; R-6.1 (1)–(3) mandatory."""
    found: list[tuple[int, str, str]] = []
    for name, kind, label, many, mandatory in MATERIALS:
        value = param(params, name)
        if value is None or value == []:
            ids = []
        elif many:
            if not isinstance(value, list):
                raise RuleViolation("R-6.1", f"{label}: parameter {name!r} must be a list of ids")
            ids = value
        else:
            ids = [value]
        for attachment_id in ids:
            if (
                isinstance(attachment_id, bool)
                or not isinstance(attachment_id, int)
                or not 0 < attachment_id < 2**31
            ):
                raise RuleViolation("R-6.1", f"{label}: {attachment_id!r} is not a file id")
            found.append((attachment_id, kind, label))
        if mandatory and not ids:
            raise RuleViolation("R-6.1", f"缺少申请材料 material missing: {label}")
    seen: set[int] = set()
    for attachment_id, _, label in found:
        if attachment_id in seen:
            raise RuleViolation("R-6.1", f"{label}: file {attachment_id} is given twice")
        seen.add(attachment_id)
    return found


def _link_materials(
    session: Session,
    materials: list[tuple[int, str, str]],
    application: Application,
) -> None:
    """Attach the uploaded files to the application and its organisation (R-6.1: uploads are
    real files kept with the case); a file of another case is refused (R-11)."""
    for attachment_id, kind, label in materials:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            raise RuleViolation("R-6.1", f"{label}: 没有编号为 {attachment_id} 的上传文件 no file")
        if attachment.application_id not in (None, application.id) or (
            attachment.organisation_id not in (None, application.organisation_id)
        ):
            raise RuleViolation(
                "R-11", f"{label}: file {attachment_id} belongs to another case; upload it again"
            )
        attachment.kind = kind
        attachment.application_id = application.id
        attachment.organisation_id = application.organisation_id
    session.flush()


def _application_kind(session: Session, organisation: Organisation) -> str:
    """R-8.11: an organisation that holds a certificate in force (valid or suspended) applies
    for recertification; otherwise it is an initial application."""
    held = session.scalars(
        select(Certificate.id).where(
            Certificate.organisation_id == organisation.id,
            Certificate.status.in_(("valid", "suspended")),
        )
    ).first()
    return "recertification" if held is not None else "initial"


@handler("application.register")
def register_application(params: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Record a formal application (R-6.1): organisation, sites, application and materials."""
    requested_level = int_param(params, "requested_level", "R-5", "申请星级 requested level")
    if requested_level not in LEVELS:
        raise RuleViolation(
            "R-5", f"申请星级须为 1–5 requested level must be 1–5: {requested_level}"
        )
    headcount = int_param(params, "headcount", "R-6.1", "员工人数 headcount")
    if headcount < 1:
        raise RuleViolation("R-6.1", f"员工人数 headcount must be at least 1: {headcount}")
    scope = text_param(params, "scope", "R-6.1", "认证范围 scope")
    shift_work = flag_param(params, "shift_work", "R-7.1.4")
    sites = _site_entries(params)
    materials = _material_ids(params)

    organisation = _organisation_for(params, ctx)
    _register_sites(ctx.session, organisation, sites)
    number = next_number(ctx.session, Application.number, "APP", ctx.now.year)
    application = Application(
        number=number,
        organisation_id=organisation.id,
        instance_id=ctx.instance_id if ctx.instance_id > 0 else None,
        kind=_application_kind(ctx.session, organisation),
        requested_level=requested_level,
        scope=scope,
        shift_work=shift_work,
        headcount=headcount,
        status="submitted",
        submitted_by=ctx.actor,
        submitted_at=ctx.now,
        review={},
    )
    ctx.session.add(application)
    ctx.session.flush()
    _link_materials(ctx.session, materials, application)
    ctx.set_business_key(number)
    # The sites' ids, so that the audit plan can name them (R-7.3).
    sites = [
        {"id": site.id, "name": site.name, "address": site.address}
        for site in organisation.sites
        if site.active
    ]
    return {
        "id": application.id,
        "number": number,
        "organisation_id": organisation.id,
        "sites": sites,
    }


# -- application.record_review (R-6.2.1, R-6.2.2) --------------------------------------------
CONFIRMATIONS = (
    ("information_sufficient", "(1) 客户信息充分，足以建立审查方案 information suffices"),
    ("differences_resolved", "(2) 理解上的分歧已解决 differences of understanding resolved"),
    ("scope_determined", "(3) 认证范围已确定 scope determined"),
    ("cb_able", "(4) 认证机构有能力实施认证 the CB is able to certify"),
)
MIN_MAN_DAYS = Decimal("0.5")


@handler("application.record_review")
def record_acceptance_review(params: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Record the acceptance review and its conclusion, by whom and when (R-6.2, R-13)."""
    application = load(ctx.session, Application, id_param(params, "application_id"))
    if application.status != "submitted":
        raise RuleViolation(
            "R-6.2.1",
            f"申请 {application.number} 状态为 {application.status}，不能评审 cannot be reviewed",
        )
    confirmations = {name: flag_param(params, name, "R-6.2.1") for name, _ in CONFIRMATIONS}
    accepted = flag_param(params, "accepted", "R-6.2.2")
    man_days = decimal_param(params, "man_days", "R-6.2.1", "审查人日 man-days", optional=True)
    man_days_basis = optional_text_param(params, "man_days_basis")
    scope = optional_text_param(params, "scope")
    reason = optional_text_param(params, "not_accepted_reason")

    if man_days is not None and man_days < 0:
        raise RuleViolation("R-6.2.1", f"审查人日不能为负 man-days cannot be negative: {man_days}")
    if accepted:
        missing = [label for name, label in CONFIRMATIONS if not confirmations[name]]
        if missing:
            raise RuleViolation(
                "R-6.2.1", "受理前须确认 accepting needs the confirmations: " + "; ".join(missing)
            )
        if man_days is None or man_days < MIN_MAN_DAYS:
            raise RuleViolation(
                "R-6.2.1",
                f"(5) 受理须确定审查人日（至少 0.5）man-days must be determined, at least 0.5: "
                f"{man_days}",
            )
    elif not reason:
        raise RuleViolation(
            "R-6.2.2b", "不受理须记录原因 a non-acceptance needs the reason (not_accepted_reason)"
        )

    application.review = {
        **confirmations,
        "man_days": str(man_days) if man_days is not None else None,
        "man_days_basis": man_days_basis,
        "scope": scope or application.scope,
        "accepted": accepted,
        "not_accepted_reason": None if accepted else reason,
    }
    if scope:
        application.scope = scope
    application.man_days = man_days
    application.reviewed_by = ctx.actor
    application.reviewed_at = ctx.now
    application.not_accepted_reason = None if accepted else reason
    application.status = "accepted" if accepted else "not_accepted"
    ctx.session.flush()
    return {"accepted": accepted}


# -- application.close_terminated (R-8.5.6) --------------------------------------------------
@handler("application.close_terminated")
def close_terminated_application(params: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Close the application after its audit was terminated with the CB's approval."""
    application = load(ctx.session, Application, id_param(params, "application_id"))
    if application.status == "terminated":
        return {}
    if application.status not in ("accepted", "contracted"):
        raise RuleViolation(
            "R-8.5.6",
            f"申请 {application.number} 状态为 {application.status}，不能终止 cannot be terminated",
        )
    terminated_audit = ctx.session.scalars(
        select(Audit.id).where(Audit.application_id == application.id, Audit.status == "terminated")
    ).first()
    if terminated_audit is None:
        raise RuleViolation(
            "R-8.5.6",
            f"申请 {application.number} 没有已终止的审查 has no terminated audit (the audit "
            "department's approval is recorded by audit.terminate)",
        )
    application.status = "terminated"
    ctx.session.flush()
    return {}


# -- notices.not_accepted (R-6.2.2b) ---------------------------------------------------------
@handler("notices.not_accepted")
def notify_not_accepted(params: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """The written notice to the applicant that its application is not accepted, with the
    reason; it may be re-reviewed when the conditions are met (R-6.2.2b)."""
    application = load(ctx.session, Application, id_param(params, "application_id"))
    if application.status != "not_accepted" or not application.not_accepted_reason:
        raise RuleViolation(
            "R-6.2.2b",
            f"申请 {application.number} 未被记录为不受理 "
            "is not recorded as not accepted with a reason",
        )
    organisation = application.organisation
    today = china_date(ctx.now)
    reason = application.not_accepted_reason
    body = render_letter(
        "not_accepted_notice",
        organisation=organisation,
        application=application,
        submitted_on=application.submitted_at.date(),
        reason=reason,
        issuing_body=ISSUING_BODY,
        today=today,
    )
    document = create_document(
        ctx.session,
        kind="not_accepted_notice",
        title=f"不予受理认证申请通知书（{application.number}）",
        body=body,
        organisation_id=organisation.id,
        application_id=application.id,
        created_by=ctx.actor,
        now=ctx.now,
        data={
            "application_number": application.number,
            "organisation_name": organisation.name,
            "uscc": organisation.uscc,
            "reason": reason,
            "date": today.isoformat(),
            "may_be_re_reviewed": True,
            "issuing_body": ISSUING_BODY,
        },
    )
    return {"document_id": document.id}
