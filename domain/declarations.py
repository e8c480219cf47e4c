"""What the applicant declares with its application, kept with the exact text it was shown:
the signed attestation of truth and legality (R-13), the acknowledgement of what the registry
will make public (R-11), and the resubmission of a not-accepted application with its supplement
(R-6.2.2b). The application form (processes/forms/application.json) and the supplement form show
these texts word for word (tests/application/test_declarations.py checks it)."""

from datetime import date, timedelta
from typing import Any

from certflow.dates import china_date
from domain.acting import Acting
from domain.errors import RuleViolation
from domain.models import Application, Attachment
from domain.models_declarations import ApplicationDeclaration
from domain.values import iso_date, load, required_text

ATTESTATION_TEXT = (
    "本组织郑重声明：本申请书所填内容及所附全部申请材料真实、合法、有效，无虚假陈述或隐瞒；"
    "本组织对申请内容的真实性、合法性负责，并承担由此产生的一切责任（规则第13条）。"
)
PUBLIC_INFORMATION_TEXT = (
    "本组织已知悉：获证后，认证机构将在公开的证书查询系统中公布组织名称和地址、服务场所"
    "（名称和地址）、证书编号、认证范围、星级、认证依据的标准、发证日期和有效期，以及证书状态"
    "及其变更（获证、暂停、恢复、撤销、注销、降级、缩小认证范围）的日期和依据；其他信息予以"
    "保密，向第三方披露其他信息前将事先通知本组织（法律另有规定的除外）（规则第11条）。"
)
ATTESTATION_MAX_AGE_DAYS = 30  # a signature older than this is not for this submission
SUPPLEMENT_KIND = "supplement"  # attachment kind of the files sent with a resubmission


def check_attestation(truth_attestation: Any, signed_on: Any, now: Any) -> date:
    """R-13: the attestation is given and signed on a date within the last 30 days, not in the
    future (form check `application.attestation_fits` and record_declarations)."""
    if truth_attestation is not True:
        raise RuleViolation(
            "R-13",
            "须声明申请内容真实、合法 the client must attest that the application is true and "
            "lawful",
            field="truth_attestation",
        )
    day = iso_date(signed_on, "attestation_signed_on", "R-13", "声明日期 date of attestation")
    today = china_date(now)
    if day > today:
        raise RuleViolation(
            "R-13",
            f"声明日期 {day.isoformat()} 晚于今天 {today.isoformat()} "
            "the attestation cannot be dated in the future",
            field="attestation_signed_on",
        )
    if day < today - timedelta(days=ATTESTATION_MAX_AGE_DAYS):
        raise RuleViolation(
            "R-13",
            f"声明日期 {day.isoformat()} 早于 {ATTESTATION_MAX_AGE_DAYS} 天前 the attestation "
            "must be signed for this submission (within the last 30 days)",
            field="attestation_signed_on",
        )
    return day


def record_declarations(
    act: Acting,
    application_id: int,
    *,
    truth_attestation: Any,
    signatory_name: Any,
    signatory_position: Any,
    signed_on: Any,
    public_information_acknowledged: Any,
) -> list[ApplicationDeclaration]:
    """Keep the signed attestation (R-13) and the acknowledgement of the public information
    (R-11) with the application, each with the text shown, who recorded it and when."""
    application = load(act.session, Application, application_id)
    if application.status != "submitted":
        raise RuleViolation(
            "R-13",
            f"申请 {application.number} 状态为 {application.status}，不能登记声明 "
            "declarations belong to a submitted application",
        )
    day = check_attestation(truth_attestation, signed_on, act.now)
    name = required_text(signatory_name, "attestation_signatory", "R-13", "声明人 signatory", 100)
    position = required_text(
        signatory_position, "attestation_position", "R-13", "声明人职务 position", 100
    )
    if public_information_acknowledged is not True:
        raise RuleViolation(
            "R-11",
            "须确认已知悉公开信息 the client must acknowledge what will be public",
            field="public_information_acknowledged",
        )
    rows = [
        ApplicationDeclaration(
            application_id=application.id,
            kind="truth_attestation",
            text=ATTESTATION_TEXT,
            signatory_name=name,
            signatory_position=position,
            signed_on=day,
            data={},
            recorded_by=act.actor,
            recorded_at=act.now,
        ),
        ApplicationDeclaration(
            application_id=application.id,
            kind="public_information",
            text=PUBLIC_INFORMATION_TEXT,
            signatory_name=name,
            signatory_position=position,
            signed_on=day,
            data={},
            recorded_by=act.actor,
            recorded_at=act.now,
        ),
    ]
    act.session.add_all(rows)
    act.session.flush()
    return rows


def resubmit(
    act: Acting, application_id: int, *, changes: Any, files: Any
) -> ApplicationDeclaration:
    """R-6.2.2b: the client supplements a not-accepted application and submits it again; it goes
    back to the acceptance review. The earlier review is kept with the resubmission record."""
    application = load(act.session, Application, application_id)
    if application.status != "not_accepted":
        raise RuleViolation(
            "R-6.2.2b",
            f"申请 {application.number} 状态为 {application.status}，只有不受理的申请才能重新提交 "
            "only a not-accepted application is resubmitted",
        )
    text = required_text(changes, "changes", "R-6.2.2b", "补充说明 what was supplemented", 4000)
    file_ids = _supplement_files(act, application, files)
    previous = {
        "review": application.review,
        "reviewed_by": application.reviewed_by,
        "reviewed_at": application.reviewed_at.isoformat() if application.reviewed_at else None,
        "not_accepted_reason": application.not_accepted_reason,
    }
    row = ApplicationDeclaration(
        application_id=application.id,
        kind="resubmission",
        text=text,
        data={"previous_review": previous, "files": file_ids},
        recorded_by=act.actor,
        recorded_at=act.now,
    )
    act.session.add(row)
    application.status = "submitted"
    application.review = {}
    application.reviewed_by = None
    application.reviewed_at = None
    application.not_accepted_reason = None
    application.man_days = None
    act.session.flush()
    return row


def _supplement_files(act: Acting, application: Application, files: Any) -> list[int]:
    """The files sent with the supplement, linked to the application; a file of another case is
    refused (R-11)."""
    if files is None:
        return []
    if not isinstance(files, list):
        raise RuleViolation("R-6.2.2b", "补充材料须为文件列表 the files must be a list")
    ids: list[int] = []
    for attachment_id in files:
        attachment = (
            act.session.get(Attachment, attachment_id)
            if isinstance(attachment_id, int) and not isinstance(attachment_id, bool)
            else None
        )
        if attachment is None:
            raise RuleViolation(
                "R-6.2.2b", f"没有编号为 {attachment_id!r} 的上传文件 no such file", field="files"
            )
        if attachment.application_id not in (None, application.id) or (
            attachment.organisation_id not in (None, application.organisation_id)
        ):
            raise RuleViolation(
                "R-11", f"file {attachment_id} belongs to another case; upload it again"
            )
        attachment.application_id = application.id
        attachment.organisation_id = application.organisation_id
        if attachment.kind in ("other", ""):
            attachment.kind = SUPPLEMENT_KIND
        ids.append(attachment.id)
    return ids
