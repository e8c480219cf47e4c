"""The mark artwork per level issued to certified clients only (R-10.2), and the record of every
download — the start of the client's records of mark use (R-10.1 a) that the surveillance
review (surveillance_audit.bpmn Task_ReviewChangesAndMarkUse) shows the auditor.

Allowlist: the artwork of the level a certificate shows, to a client of the certificate's own
organisation (the web checks who asks), only while the mark may be used: the certificate is valid
(or partly suspended: the other sites stay certified) and not past its expiry date. Suspended,
withdrawn, cancelled, superseded or expired: refused (R-10.1 e).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.acting import Acting
from domain.models import Certificate
from domain.models_marks import MarkArtworkDownload

RULE = "R-10.2"
FORMATS = ("svg", "pdf")

# The usage rules printed with the artwork (R-10.1 a–e, R-10.2, R-9.5.2 d, R-10.3), in Chinese
# (the rules' words) with the English; the scale and colour lines are the certification body's
# own rule for its artwork (docs/decisions.md "The mark artwork").
USAGE_RULES: tuple[tuple[str, str], ...] = (
    (
        "仅可在认证证书的认证范围内使用认证标志（规则 10.1）。",
        "Use the mark only within the certified scope of the certificate (rule 10.1).",
    ),
    (
        "仅可使用与所获星级相符的标志样式（规则 10.2）；不得使用更高星级的标志。",
        "Use only the mark of the level held (rule 10.2), never that of a higher level.",
    ),
    (
        "标志须按原样整体等比例缩放使用，不得改变颜色、比例、文字或星数。",
        "Reproduce the whole mark in proportion only; never change its colours, proportions, "
        "words or stars.",
    ),
    (
        "本标志为服务认证标志，不得用于产品或产品包装而使人误认为产品认证；在广告、服务项目介绍等"
        "宣传材料中正确使用，不得误导消费者（规则 10.1 c）。",
        "This is a service certification mark: never put it on products or their packaging as "
        "if the product were certified; use it correctly in advertising and service descriptions, "
        "never misleading consumers (rule 10.1 c).",
    ),
    (
        "建立认证标志使用和管理制度，如实记录和存档标志的使用情况（规则 10.1 a），监督审查时提供。",
        "Keep a mark-use procedure and truthful, archived records of use (rule 10.1 a); show "
        "them at surveillance.",
    ),
    (
        "证书被暂停、注销或撤销时，立即停止使用认证标志和发放带有认证标志的文件和宣传资料"
        "（规则 10.1 e）。",
        "When the certificate is suspended, cancelled or withdrawn, stop using the mark and "
        "issuing any material carrying it at once (rule 10.1 e).",
    ),
    (
        "不得转让认证标志；误用标志将被要求纠正，或撤销证书并公布（规则 9.5.2 d、10.3）。",
        "The mark may not be transferred; misuse leads to correction, or withdrawal and "
        "publication (rules 9.5.2 d, 10.3).",
    ),
)

# Why the artwork is refused, by certificate status: (Chinese, English).
REFUSALS: dict[str, tuple[str, str]] = {
    "suspended": (
        "证书已暂停，暂停期间不得使用认证标志",
        "the certificate is suspended: no mark use",
    ),
    "withdrawn": ("证书已撤销，不得使用认证标志", "the certificate is withdrawn: no mark use"),
    "cancelled": ("证书已注销，不得使用认证标志", "the certificate is cancelled: no mark use"),
    "superseded": (
        "证书已换发，请使用新证书的标志",
        "the certificate was replaced: use the mark of the new certificate",
    ),
    "expired": ("证书已过有效期，不得使用认证标志", "the certificate has expired: no mark use"),
}


@dataclass(frozen=True)
class Refusal:
    reason: str  # a key of REFUSALS

    @property
    def zh(self) -> str:
        return REFUSALS[self.reason][0]

    @property
    def en(self) -> str:
        return REFUSALS[self.reason][1]


def refusal(certificate: Certificate, today: date) -> Refusal | None:
    """None when the certificate's holder may have its artwork now (R-10.1 e, R-10.2)."""
    if certificate.status == "valid" and certificate.expires_on < today:
        return Refusal("expired")
    if certificate.status == "valid":
        return None
    if certificate.status == "suspended" and certificate.mark_use_allowed:
        return None  # partly suspended: the mark stays in use for the other sites
    return Refusal(certificate.status if certificate.status in REFUSALS else "withdrawn")


def record_download(act: Acting, certificate: Certificate, file_format: str) -> MarkArtworkDownload:
    """R-10.1(a), R-10.2: who downloaded which level's artwork of which certificate, and when."""
    if file_format not in FORMATS:
        raise ValueError(f"file_format: one of {FORMATS}, got {file_format!r}")
    row = MarkArtworkDownload(
        certificate_id=certificate.id,
        star_level=certificate.star_level,
        file_format=file_format,
        downloaded_by=act.actor,
        downloaded_at=act.now,
    )
    act.session.add(row)
    act.session.flush()
    return row


def downloads_of(session: Session, certificate_ids: list[int], limit: int = 50) -> list:
    """The artwork downloads of these certificates, newest first."""
    if not certificate_ids:
        return []
    return list(
        session.scalars(
            select(MarkArtworkDownload)
            .where(MarkArtworkDownload.certificate_id.in_(certificate_ids))
            .order_by(MarkArtworkDownload.downloaded_at.desc(), MarkArtworkDownload.id.desc())
            .limit(limit)
        )
    )
