"""Letters, notices and reports as Jinja templates (issue 14): `domain/letters/<name>.md.j2`.

A document's body is Markdown rendered from a template with the case's facts; the template is
the text a quality manager reviews, not Python lists of lines. Undefined names fail loudly
(StrictUndefined) instead of printing nothing.

Translated through the letters catalogue (its own Babel domain, `letters`, in
`domain/letters/translations/<locale>/LC_MESSAGES/letters.po`, maintained with
`make translations`): the templates' texts are the message ids — the CB's documents as issued,
in Chinese with their English glosses — so `zh_CN` renders the source text and `en` the English
catalogue. The language is the setting `CERTFLOW_DOCUMENT_LOCALE`, which the handlers pass from
their context (`document_locale`); without one, `zh_CN`. Babel only, no Flask.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).resolve().parent / "letters"
CATALOGUE_DIR = TEMPLATE_DIR / "translations"
DOMAIN = "letters"
SOURCE_LOCALE = "zh_CN"  # the language the templates are written in
LOCALES = (SOURCE_LOCALE, "en")

_current_locale: ContextVar[str | None] = ContextVar("document_locale", default=None)


def zh_date(value: date) -> str:
    """2026年3月9日 — how dates are written in the CB's documents."""
    return f"{value.year}年{value.month}月{value.day}日"


def _long_date(locale: str) -> Any:
    if locale == SOURCE_LOCALE:
        return zh_date
    return lambda value: format_date(value, format="long", locale=locale)


def catalogue(locale: str) -> NullTranslations:
    """The letters catalogue of `locale`: its compiled .mo when that is up to date (`make
    translations`), else its .po compiled in memory; the source locale needs none."""
    if locale not in LOCALES:
        raise ValueError(f"no letters catalogue for {locale!r}: one of {LOCALES}")
    po_path = CATALOGUE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo_path = po_path.with_suffix(".mo")
    if not po_path.exists():
        return NullTranslations()
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as fh:
            return Translations(fh, domain=DOMAIN)
    with po_path.open("rb") as fh:
        compiled = BytesIO()
        write_mo(compiled, read_po(fh, locale=locale, domain=DOMAIN))
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def environment(locale: str = SOURCE_LOCALE) -> Environment:
    env = Environment(  # noqa: S701 (Markdown, shown through the sandboxed Markdown renderer)
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["long_date"] = _long_date(locale)
    # Facts that come in both languages (e.g. indicator texts) print the document's own.
    env.globals["source_locale"] = locale == SOURCE_LOCALE
    env.install_gettext_translations(catalogue(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


@contextmanager
def document_locale(locale: str | None) -> Iterator[None]:
    """Render the letters of this block in `locale` (None: the source language)."""
    token = _current_locale.set(locale)
    try:
        yield
    finally:
        _current_locale.reset(token)


def render_letter(name: str, *, locale: str | None = None, **context: Any) -> str:
    """The Markdown body of `domain/letters/<name>.md.j2` with the given facts, in `locale`
    (default: the enclosing `document_locale`, else the source language, Chinese)."""
    chosen = locale or _current_locale.get() or SOURCE_LOCALE
    return environment(chosen).get_template(f"{name}.md.j2").render(**context)
