"""Names of the auditor register's codes in the visitor's language (R-7.2.1(4), R-7.2.2): the
hr pages and the team appointment's auditor choices show the same words."""

from flask_babel import gettext as _


def language_names() -> dict[str, str]:
    return {
        "zh": _("Chinese"),
        "en": _("English"),
        "ja": _("Japanese"),
        "ko": _("Korean"),
        "de": _("German"),
        "fr": _("French"),
        "ru": _("Russian"),
        "es": _("Spanish"),
        "ar": _("Arabic"),
        "ug": _("Uyghur"),
        "bo": _("Tibetan"),
        "mn": _("Mongolian"),
    }


def languages_text(codes: list[str]) -> str:
    names = language_names()
    return ", ".join(names.get(code, code) for code in codes)
