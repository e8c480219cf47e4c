"""Languages (Flask-Babel): Chinese (zh_CN) by default, English on request; China time.

The language is chosen by `?lang=zh_CN|en` on any page (remembered in the session) or by the
switch link (`/lang/<code>`). Catalogs live in webapp/translations/<lang>/LC_MESSAGES/messages.po,
maintained with pybabel (webapp.catalogs, `make translations`); the compiled .mo files are not
kept in git: create_app compiles each one that is missing or older than its .po.

Dates are stored in UTC and shown in Asia/Shanghai (`localtime` filter).
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from babel.support import NullTranslations, Translations
from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, Domain, get_locale

from certflow.dates import CHINA_TZ
from certflow.roles import ROLES
from webapp.catalogs import TRANSLATIONS, compile_catalogs

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
CHINA = CHINA_TZ  # the one calendar (certflow/dates.py)
_ROLE_NAMES = {role.id: role for role in ROLES}

bp = Blueprint("i18n", __name__)


class _CatalogDomain(Domain):
    """Loads webapp/translations/<zh_CN|en>: Babel spells the Chinese locale zh_Hans_CN, which
    gettext would not look up as zh_CN."""

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return NullTranslations()
        name = "zh_CN" if locale.language == "zh" else "en"
        if name not in self.cache:
            self.cache[name] = Translations.load(str(TRANSLATIONS), [name], "messages")
        return self.cache[name]


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _CatalogDomain()


babel = _Babel()


def select_locale() -> str:
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        return requested
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def _remember_language() -> None:
    requested = request.args.get("lang")
    if requested in LANGUAGES and session.get("lang") != requested:
        session["lang"] = requested


def current_language() -> str:
    """The page's language as one of LANGUAGES (Babel may spell Chinese zh_Hans_CN)."""
    locale = get_locale()
    if locale is None:
        return DEFAULT_LANGUAGE
    return "zh_CN" if locale.language == "zh" else "en"


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to; anything else (other hosts, schemes) becomes `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


@bp.get("/lang/<code>")
def switch_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    target = safe_next(request.args.get("next"), url_for("inbox.index"))
    # Drop a ?lang= of the page we came from, or it would win over the new choice.
    target = re.sub(r"([?&])lang=[^&]*&?", r"\1", target).rstrip("?&")
    return redirect(target or url_for("inbox.index"))


# -- formatting -----------------------------------------------------------------------------------
def to_china(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA)


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp as China time text."""
    if value is None:
        return ""
    return to_china(value).strftime(fmt)


def localdate(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_china(value).strftime("%Y-%m-%d")
    return value.isoformat()


def china_day_start(day: date) -> datetime:
    """00:00 of a China calendar day, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=CHINA).astimezone(UTC)


def china_day_end(now: datetime, days: int = 0) -> datetime:
    """The end of the China calendar day `days` after the day of `now`, in UTC."""
    return china_day_start(to_china(now).date() + timedelta(days=days + 1))


def role_name(role_id: str | None) -> str:
    if not role_id:
        return ""
    role = _ROLE_NAMES.get(role_id)
    if role is None:
        return role_id
    return role.name_en if current_language() == "en" else role.name_zh


def init_i18n(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_remember_language)
    app.register_blueprint(bp)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, current_language=current_language, role_name=role_name
    )
