"""Letters, notices and reports as Jinja templates (issue 14): `domain/letters/<name>.md.j2`.

A document's body is Markdown rendered from a template with the case's facts; the template is
the text a quality manager reviews, not Python lists of lines. Undefined names fail loudly
(StrictUndefined) instead of printing nothing. Templates may mark text for translation with
`{% trans %}…{% endtrans %}` / `_()`; the application installs its catalogue with
`install_translations` (the default keeps the source text, Chinese: the CB's documents are
issued in Chinese).
"""

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).resolve().parent / "letters"


def zh_date(value: date) -> str:
    """2026年3月9日 — how dates are written in the CB's documents."""
    return f"{value.year}年{value.month}月{value.day}日"


@cache
def environment() -> Environment:
    env = Environment(  # noqa: S701 (Markdown, shown through the sandboxed Markdown renderer)
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["zh_date"] = zh_date
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def install_translations(translations: Any) -> None:
    """Use a gettext-style catalogue (e.g. babel.support.Translations) for `trans` blocks."""
    environment().install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]


def render_letter(name: str, **context: Any) -> str:
    """The Markdown body of `domain/letters/<name>.md.j2` with the given facts."""
    return environment().get_template(f"{name}.md.j2").render(**context)
