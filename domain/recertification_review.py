"""The review of the ending cycle that a recertification covers (R-8.11: 再认证的内容主要包括…
任何变更、认证证书及标志的使用、以往不符合项的验证): every nonconformity of the cycle is verified
(its correction effective or not) and the use of the certificate and of the mark is checked,
before the initial procedure runs again (recertification.bpmn `Task_ReviewPreviousCycle`).

The form chooses the nonconformities from data (option source `previous_cycle_ncs`) and declares
the form check `recertification.review_fits`, the same rule `record_review` enforces. The result
is kept as a document of the certificate's organisation (kind `recertification_review`) that
the recertification audit reads.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.checks import optional_text, require_id, require_list, require_text
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.form_checks import CheckCase, form_check
from domain.models import Audit, Certificate, Nonconformity
from domain.options import Choice, OptionContext, option_source
from domain.surveillance import certificate_in_force, programme_of

REVIEW_KIND = "recertification_review"
RESULTS = {"effective": "纠正措施有效 effective", "not_effective": "纠正措施无效 not effective"}
USE_RESULTS = {
    "proper": "使用正确 proper",
    "improper": "使用不当 improper",
    "not_used": "未使用 not used",
}
LABEL_CHARS = 80


def cycle_nonconformities(session: Session, certificate: Certificate) -> list[Nonconformity]:
    """The nonconformities of the certificate's cycle: its initial (or last recertification)
    audit and the surveillance audits of the certificate, oldest first."""
    programme = programme_of(session, certificate)
    audits = select(Audit.id).where(
        or_(Audit.programme_id == programme.id, Audit.certificate_id == certificate.id)
    )
    return list(
        session.scalars(
            select(Nonconformity)
            .where(Nonconformity.audit_id.in_(audits))
            .order_by(Nonconformity.id)
        )
    )


def _certificate(session: Session, certificate_id: Any) -> Certificate:
    return certificate_in_force(session, certificate_id, "R-8.11", "review its cycle")


@option_source("previous_cycle_ncs", "R-8.11")
def previous_cycle_ncs(ctx: OptionContext) -> list[Choice]:
    """Every nonconformity of the ending cycle, labelled with its number, item and text."""
    try:
        certificate = _certificate(ctx.session, ctx.data.get("certificate_id"))
    except (LookupError, ValueError, RuleViolation):
        return []
    return [Choice(nc.id, _label(nc)) for nc in cycle_nonconformities(ctx.session, certificate)]


def _label(nc: Nonconformity) -> str:
    text = " ".join(nc.description.split())
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 1] + "…"
    return f"{nc.number} {nc.item_code}：{text}"


def check_review(
    ncs: list[Nonconformity],
    nc_checks: Any,
    certificate_use: Any,
    mark_use: Any,
    use_findings: Any,
) -> dict[int, dict]:
    """R-8.11: exactly one verification for each nonconformity of the cycle, with its result
    and a note; the certificate's and the mark's use each checked, an improper use with what
    was found."""
    expected = {nc.id: nc for nc in ncs}
    entries: dict[int, dict] = {}
    for index, raw in enumerate(require_list(nc_checks, "nc_checks", "R-8.11", allow_empty=True)):
        where = f"nc_checks/{index}"
        if not isinstance(raw, dict):
            raise RuleViolation("R-8.11", f"nc_checks[{index}] must be an object", field=where)
        try:
            nc_id = require_id(raw.get("nc_id"), f"nc_checks[{index}].nc_id")
        except ValueError as err:
            raise RuleViolation("R-8.11", str(err), field=where) from err
        if nc_id not in expected:
            raise RuleViolation(
                "R-8.11", f"NC {nc_id} is not a nonconformity of this cycle", field=where
            )
        if nc_id in entries:
            raise RuleViolation("R-8.11", f"NC {nc_id} is verified twice", field=where)
        if raw.get("result") not in RESULTS:
            raise RuleViolation("R-8.11", f"result must be one of {list(RESULTS)}", field=where)
        note = require_text(raw.get("note"), f"{where}/note", "R-8.11")
        entries[nc_id] = {"result": raw["result"], "note": note}
    missing = [nc.number for nc_id, nc in expected.items() if nc_id not in entries]
    if missing:
        raise RuleViolation(
            "R-8.11",
            f"every nonconformity of the cycle is verified; missing: {', '.join(missing)}",
            field="nc_checks",
        )
    for name, value in (("certificate_use", certificate_use), ("mark_use", mark_use)):
        if value not in USE_RESULTS:
            raise RuleViolation("R-8.11", f"{name} must be one of {list(USE_RESULTS)}", field=name)
    if "improper" in (certificate_use, mark_use) and not optional_text(use_findings):
        raise RuleViolation(
            "R-8.11",
            "an improper use of the certificate or mark needs its findings",
            field="use_findings",
        )
    return entries


@form_check("recertification.review_fits")
def review_fits(case: CheckCase) -> None:
    """R-8.11 at submit: what record_review will refuse."""
    try:
        certificate = _certificate(case.session, case.data.get("certificate_id"))
    except (LookupError, ValueError):
        return
    check_review(
        cycle_nonconformities(case.session, certificate),
        case.data.get("nc_checks"),
        case.data.get("certificate_use"),
        case.data.get("mark_use"),
        case.data.get("use_findings"),
    )


def record_review(
    session: Session,
    *,
    certificate_id: Any,
    nc_checks: Any,
    certificate_use: Any,
    mark_use: Any,
    use_findings: Any,
    actor: str,
    now: datetime,
) -> dict:
    """R-8.11: record the review of the ending cycle as a document of the organisation."""
    certificate = _certificate(session, certificate_id)
    ncs = cycle_nonconformities(session, certificate)
    entries = check_review(ncs, nc_checks, certificate_use, mark_use, use_findings)
    findings = optional_text(use_findings)
    lines = [f"# 再认证：上一周期核查 Recertification review — {certificate.number}", ""]
    lines += [
        f"- {nc.number} {nc.item_code}: {RESULTS[entries[nc.id]['result']]} — "
        f"{entries[nc.id]['note']}"
        for nc in ncs
    ] or ["- 本周期无不符合项 no nonconformity in this cycle"]
    lines += [
        "",
        f"- 证书使用 certificate use: {USE_RESULTS[certificate_use]}",
        f"- 标志使用 mark use: {USE_RESULTS[mark_use]}",
    ]
    if findings:
        lines.append(f"- 发现 findings: {findings}")
    verified = [{"nc_id": nc.id, "number": nc.number, **entries[nc.id]} for nc in ncs]
    document = create_document(
        session,
        kind=REVIEW_KIND,
        title_facts={"reference": certificate.number},
        lines=lines,
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        data={
            "certificate_number": certificate.number,
            "nonconformities": verified,
            "certificate_use": certificate_use,
            "mark_use": mark_use,
            "use_findings": findings,
        },
        created_by=actor,
        now=now,
    )
    return {
        "document_id": document.id,
        "verified": len(verified),
        "not_effective": [v["number"] for v in verified if v["result"] == "not_effective"],
        "certificate_use": certificate_use,
        "mark_use": mark_use,
    }
