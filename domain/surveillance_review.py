"""What every surveillance reviews besides the scored indicators (R-8.10.2 c and f, R-10.1,
R-10.2): the organisation's changes, and the use of the certificate and the mark — the
client's records of mark use (R-10.1a 如实记录和存档), use within the certified scope only
(R-10.1, b) and correct use in publicity (R-10.1c), the mark in the style of the held level
(R-10.2). The team leader records it (surveillance_audit.bpmn `Task_ReviewChangesAndMarkUse`,
before the on-site audit, from the client's records and publicity material); every problem
found is a nonconformity of the surveillance audit, so it is in the NC report of the on-site
audit and corrected in the NC cycle (R-8.7). The review is kept as a document of the audit."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.audit.common import audit_indicator_set, get_audit, require_status
from domain.audit.conclusion import create_nonconformities, nonconformity_entry
from domain.checks import optional_text, require_list
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.form_checks import CheckCase, form_check
from domain.models import Certificate

REVIEW_KIND = "surveillance_review"
CHANGES = {"none": "无变更 no change", "changed": "有变更 changed"}
RECORDS = {
    "kept": "记录完整 records kept",
    "incomplete": "记录不全 records incomplete",
    "not_used": "未使用标志 mark not used",
}
USES = {"proper": "正确 proper", "improper": "不当 improper", "not_used": "未使用 not used"}
# The review's questions: field → (allowed answers, the answers that are a problem, the rule).
QUESTIONS = {
    "mark_use_records": (RECORDS, {"incomplete"}, "R-10.1a"),
    "use_within_scope": (USES, {"improper"}, "R-10.1b"),
    "publicity_use": (USES, {"improper"}, "R-10.1c"),
    "certificate_use": (USES, {"improper"}, "R-8.10.2f"),
}


def check_review(indicator_set: Any, answers: dict[str, Any], nonconformities: Any) -> list[dict]:
    """R-8.10.2 c, f, R-10.1: every question answered; a change described; a problem found
    (records incomplete, an improper use) has at least one nonconformity. Returns the NCs."""
    if answers.get("organisation_changes") not in CHANGES:
        raise RuleViolation(
            "R-8.10.2c",
            f"organisation_changes must be one of {list(CHANGES)}",
            field="organisation_changes",
        )
    if answers["organisation_changes"] == "changed" and not optional_text(
        answers.get("changes_details")
    ):
        raise RuleViolation(
            "R-8.10.2c",
            "a change of the organisation needs its description",
            field="changes_details",
        )
    problems = []
    for name, (allowed, bad, rule) in QUESTIONS.items():
        if answers.get(name) not in allowed:
            raise RuleViolation(rule, f"{name} must be one of {list(allowed)}", field=name)
        if answers[name] in bad:
            problems.append(name)
    entries = [
        nonconformity_entry(indicator_set, index, raw)
        for index, raw in enumerate(
            require_list(nonconformities, "nonconformities", "R-8.7", allow_empty=True)
        )
    ]
    if problems and not entries:
        raise RuleViolation(
            "R-10.1",
            f"what was found ({', '.join(problems)}) is recorded as a nonconformity to correct",
            field="nonconformities",
        )
    return entries


def _answers(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data.get(key) for key in ("organisation_changes", "changes_details", *QUESTIONS)}


@form_check("surveillance.review_fits")
def review_fits(case: CheckCase) -> None:
    """R-8.10.2 c, f, R-10.1 at submit: what record_review will refuse."""
    try:
        audit = get_audit(case.session, case.data.get("audit_id"))
    except (LookupError, ValueError):
        return
    check_review(
        audit_indicator_set(case.session, audit, pin=False),
        _answers(case.data),
        case.data.get("nonconformities"),
    )


def record_review(
    session: Session,
    *,
    audit_id: Any,
    nonconformities: Any,
    actor: str,
    now: datetime,
    **answers: Any,
) -> dict:
    """R-8.10.2 c, f, R-10.1: record the review as a document of the audit and its findings as
    nonconformities of the surveillance audit (open, reported with the on-site audit's NCs)."""
    audit = get_audit(session, audit_id)
    require_status(audit, ["planned"], "R-8.10.2", "review changes and certificate/mark use")
    if audit.certificate_id is None:
        raise RuleViolation("R-8.10.2", f"audit {audit.id} is not a surveillance audit")
    entries = check_review(audit_indicator_set(session, audit), answers, nonconformities)
    create_nonconformities(session, audit, entries)
    details = optional_text(answers.get("changes_details"))
    lines = [
        f"- 组织变更 organisation changes: {CHANGES[answers['organisation_changes']]}"
        + (f" — {details}" if details else ""),
        f"- 标志使用记录 records of mark use: {RECORDS[answers['mark_use_records']]}",
        f"- 认证范围内使用 use within the certified scope: {USES[answers['use_within_scope']]}",
        f"- 宣传中的使用 use in publicity: {USES[answers['publicity_use']]}",
        f"- 证书使用 certificate use: {USES[answers['certificate_use']]}",
    ] + [f"- {e['item_code']}: {e['description']}" for e in entries]
    document = create_document(
        session,
        kind=REVIEW_KIND,
        title_facts={"reference": session.get(Certificate, audit.certificate_id).number},
        lines=lines,
        organisation_id=audit.organisation_id,
        application_id=audit.application_id,
        audit_id=audit.id,
        created_by=actor,
        now=now,
        data={**_answers(answers), "changes_details": details, "nonconformities": entries},
    )
    return {"document_id": document.id, "nonconformity_count": len(entries)}
