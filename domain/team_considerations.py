"""What the scheduler considers when appointing a team (R-7.2.1: 决定审查组的规模和组成时，应考虑
下列因素) beyond each member's own qualification (domain/team.py), decided in docs/decisions.md:

* Field competence (R-7.2.1(2) 整体能力, R-7.2.2, R-7.2.3) is required of every team, not only
  of a one-auditor team: at least one auditing member (leader or auditor) is competent for the
  certification field — otherwise the team cannot reach the audit's objectives. A refusal.
* Language and culture (R-7.2.1(4)) are to be *considered*: the audit's languages (the form's
  `audit_languages`, Chinese by default) should each be spoken by an auditing member; when one
  is not, the appointment is flagged and needs a written justification (`considerations`, e.g.
  an interpreter or a member of the client's culture) — recorded with the appointment letter.
* Factors (1) objectives, scope, complexity and time and (3) certification requirements are
  stated in the appointment itself (R-7.2.5: objectives, criteria, scope and boundaries, dates)
  and may be explained in `considerations` too.
"""

from collections.abc import Sequence
from typing import Any

from domain.auditor_register import FIELDS
from domain.models import Auditor
from domain.said import said

DEFAULT_LANGUAGES = ("zh",)
# The register's language codes in words (a page shows the reason in one language, issue 10).
LANGUAGE_NAMES = {
    "zh": ("中文", "Chinese"),
    "en": ("英语", "English"),
    "ja": ("日语", "Japanese"),
    "ko": ("韩语", "Korean"),
    "de": ("德语", "German"),
    "fr": ("法语", "French"),
    "ru": ("俄语", "Russian"),
    "es": ("西班牙语", "Spanish"),
    "ar": ("阿拉伯语", "Arabic"),
    "ug": ("维吾尔语", "Uyghur"),
    "bo": ("藏语", "Tibetan"),
    "mn": ("蒙古语", "Mongolian"),
}


def _named(codes: Sequence[str]) -> tuple[str, str]:
    zh = "、".join(LANGUAGE_NAMES.get(code, (code, code))[0] for code in codes)
    en = ", ".join(LANGUAGE_NAMES.get(code, (code, code))[1] for code in codes)
    return zh, en


FIELD = FIELDS[0]  # the scheme's one certification field
# Each function takes the team's auditing members' records (leader and auditors, no technical
# experts: domain.team.auditing_records), so that domain.team can call them.


def field_refusals(auditing: Sequence[Auditor]) -> list[dict[str, Any]]:
    """R-7.2.1(2), R-7.2.2: no auditing member competent for the field → refused."""
    if not auditing or any(FIELD in (a.fields or []) for a in auditing):
        return []
    return [
        said(
            "R-7.2.1(2)",
            "审查组中没有具备商品售后服务认证领域资格的审查员，审查组的整体能力不能满足审查需要",
            "no auditing member of the team is competent for after-sales service certification; "
            "the team as a whole lacks the competence the audit needs",
        )
    ]


def audit_languages(value: Any) -> list[str]:
    """The audit's languages as given (None: Chinese, the default of the form)."""
    if value is None:
        return list(DEFAULT_LANGUAGES)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"audit_languages must be a list of language codes, not {value!r}")
    return value


def uncovered_languages(auditing: Sequence[Auditor], languages: Sequence[str]) -> list[str]:
    """The audit languages no auditing member speaks (HR's record of their languages)."""
    spoken = {code for a in auditing for code in (a.languages or [])}
    return [code for code in languages if code not in spoken]


def language_flag(auditing: Sequence[Auditor], languages: Sequence[str]) -> dict[str, Any] | None:
    missing = uncovered_languages(auditing, languages)
    if not missing or not auditing:
        return None
    zh, en = _named(missing)
    return {
        "flag": "language_not_covered",
        "languages": missing,
        "detail": said(
            "R-7.2.1(4)",
            f"审查组成员中无人掌握审查语言{zh}",
            f"no auditing member speaks the audit language(s) {en}",
        ),
    }


def consideration_refusals(
    auditing: Sequence[Auditor], languages: Sequence[str], considerations: Any
) -> list[dict[str, Any]]:
    """A consideration flag without its written justification → refused (R-7.2.1(4))."""
    flag = language_flag(auditing, languages)
    given = considerations.strip() if isinstance(considerations, str) else ""
    if flag is None or given:
        return []
    zh, en = _named(flag["languages"])
    return [
        said(
            "R-7.2.1(4)",
            f"审查组成员中无人掌握审查语言{zh}，须在委派考虑说明中写明如何考虑语言和文化（如安排翻译）",
            f"no auditing member speaks the audit language(s) {en}: explain in the considerations "
            "how language and culture are provided for (e.g. an interpreter)",
        )
    ]
