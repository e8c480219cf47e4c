"""The formal application (R-6.1, R-5, R-7.1.4, R-8.11, R-11): the organisation found by its
unified social credit code (or created), its service sites, the application and its materials
(uploaded files kept with the case)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.models import User
from domain.acting import Acting
from domain.client_cases import bound_organisation, confirm_binding
from domain.errors import RuleViolation
from domain.models import Application, Attachment, Certificate, Organisation, Site
from domain.numbering import next_number
from domain.uscc import uscc_error
from domain.values import flag, optional_text, required_text, whole_number

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


@dataclass(frozen=True)
class ApplicationForm:
    """What the applicant states (R-6.1); the values as the service task passes them."""

    org_name: Any
    uscc: Any
    address: Any
    contact_name: Any
    contact_phone: Any
    contact_email: Any
    requested_level: Any
    scope: Any
    sites: Any
    shift_work: Any
    headcount: Any
    legal_status_file: Any
    service_documents_files: Any
    service_flowchart_file: Any
    other_certificate_files: Any


def register_application(act: Acting, form: ApplicationForm, instance_id: int | None) -> dict:
    """Record a formal application (R-6.1): organisation, sites, application and materials.
    Returns the application's id, number, organisation and active sites (their ids, so that
    the audit plan can name them, R-7.3)."""
    requested_level = whole_number(
        form.requested_level, "requested_level", "R-5", "申请星级 requested level"
    )
    if requested_level not in LEVELS:
        raise RuleViolation(
            "R-5", f"申请星级须为 1–5 requested level must be 1–5: {requested_level}"
        )
    headcount = whole_number(form.headcount, "headcount", "R-6.1", "员工人数 headcount")
    if headcount < 1:
        raise RuleViolation("R-6.1", f"员工人数 headcount must be at least 1: {headcount}")
    scope = required_text(form.scope, "scope", "R-6.1", "认证范围 scope")
    shift_work = flag(form.shift_work, "shift_work", "R-7.1.4")
    sites = _site_entries(form.sites)
    materials = _material_ids(form)

    organisation = _organisation_for(act, form, instance_id)
    _register_sites(act.session, organisation, sites)
    number = next_number(act.session, Application.number, "APP", act.now.year)
    application = Application(
        number=number,
        organisation_id=organisation.id,
        instance_id=instance_id,
        kind=_application_kind(act.session, organisation),
        requested_level=requested_level,
        scope=scope,
        shift_work=shift_work,
        headcount=headcount,
        status="submitted",
        submitted_by=act.actor,
        submitted_at=act.now,
        review={},
    )
    act.session.add(application)
    act.session.flush()
    _link_materials(act.session, materials, application)
    return {
        "id": application.id,
        "number": number,
        "organisation_id": organisation.id,
        "sites": [
            {"id": site.id, "name": site.name, "address": site.address}
            for site in organisation.sites
            if site.active
        ],
    }


def _organisation_for(act: Acting, form: ApplicationForm, instance_id: int | None) -> Organisation:
    """The organisation a client's own case was started for (its code must match, R-11), else
    the one with the unified social credit code, or a new one; its name, address and contact
    are updated from the application either way."""
    uscc = form.uscc
    problem = uscc_error(uscc)
    if problem:
        raise RuleViolation("R-6.1", problem)
    details = {
        "name": required_text(
            form.org_name, "org_name", "R-6.1", "申请组织名称 organisation name", 300
        ),
        "address": required_text(form.address, "address", "R-6.1", "地址 address", 500),
        "contact_name": required_text(
            form.contact_name, "contact_name", "R-6.1", "联系人 contact", 100
        ),
        "contact_phone": optional_text(form.contact_phone, "contact_phone", "R-6.1", 50),
        "contact_email": optional_text(form.contact_email, "contact_email", "R-6.1", 200),
    }
    organisation = bound_organisation(act.session, instance_id)
    if organisation is not None:
        confirm_binding(organisation, uscc)
    else:
        organisation = act.session.scalars(
            select(Organisation).where(Organisation.uscc == uscc)
        ).first()
    if organisation is None:
        organisation = Organisation(uscc=uscc, created_at=act.now, **details)
        act.session.add(organisation)
        act.session.flush()
    _check_client_belongs(act, organisation)
    for field, value in details.items():
        setattr(organisation, field, value)
    act.session.flush()
    return organisation


def _check_client_belongs(act: Acting, organisation: Organisation) -> None:
    """R-11: a client user applies only for its own organisation. A client account without an
    organisation is linked to it by its first application, unless other client accounts
    already belong to that organisation (then an administrator must link it)."""
    user = check_client_may_apply(act.session, act.actor, organisation)
    if user is not None:
        user.organisation_id = organisation.id


def check_client_may_apply(
    session: Session, username: str, organisation: Organisation | None
) -> User | None:
    """R-11: the client user applies for its own organisation, or links its account to one no
    other client account belongs to (form check `application.client_may_apply` and
    register_application). Returns the client user still to link, else None."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.has_role("client") or organisation is None:
        return None  # staff applying on a client's behalf, or a new organisation
    if user.organisation_id == organisation.id:
        return None
    if user.organisation_id is not None:
        raise RuleViolation(
            "R-11",
            "客户只能为本组织申请 a client may apply only for its own organisation",
            field="uscc",
        )
    others = session.scalars(
        select(User.id).where(User.organisation_id == organisation.id, User.id != user.id)
    ).first()
    if others is not None:
        raise RuleViolation(
            "R-11",
            "该组织已有客户账号，请联系管理员关联 the organisation already has client accounts; "
            "an administrator must link this one",
            field="uscc",
        )
    return user


def _site_entries(sites: Any) -> list[tuple[str, str, bool]]:
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


def _material_ids(form: ApplicationForm) -> list[tuple[int, str, str]]:
    """(attachment id, kind, label) for every material; R-6.1 (1)–(3) mandatory."""
    found: list[tuple[int, str, str]] = []
    for name, kind, label, many, mandatory in MATERIALS:
        value = getattr(form, name)
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
