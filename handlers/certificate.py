"""Handlers: issuing the certificate (R-9.1, R-9.2) and starting the programme's 3-year cycle
(R-7.1.1, R-7.1.3, R-8.10.1, R-8.11) — the rules in `domain/certificate_issue.py`; the
signatory and title come from the settings (`certificate_signatory`, `certificate_signatory_title`).
"""

from pydantic import Field

from domain.certificate_issue import (
    issue_certificate,
)
from handlers.params import Id, Params
from handlers.registry import HandlerContext, handler


class IssueParams(Params):
    application_id: Id = Field(description="申请 The application (id)")
    decision_id: Id = Field(description="R-9.1 批准认证的决定 The granting decision (id)")


@handler("certificate.issue", params=IssueParams)
def issue(params: IssueParams, ctx: HandlerContext) -> dict:
    """R-9.1/R-9.2: the certificate, valid 3 years from the decision date; the programme cycle
    and its surveillance/recertification dates; the application becomes certified."""
    return issue_certificate(
        ctx,
        params.application_id,
        params.decision_id,
        signatory=ctx.settings.certificate_signatory,
        signatory_title=ctx.settings.certificate_signatory_title,
    )
