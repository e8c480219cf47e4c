"""Task instructions (`instructionsForEndUser`): markdown with `{{ var }}` placeholders filled
from the task data, rendered without any way to inject HTML.

1. The placeholders are filled by a *sandboxed* Jinja environment with autoescaping, so a data
   value such as ``<script>`` becomes ``&lt;script&gt;`` and templates cannot reach Python
   internals.
2. The result is rendered by markdown-it with raw HTML disabled: HTML in the instructions (or in
   the data) is shown as text, and unsafe link schemes (javascript:, data:…) are refused.
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from domain.said import in_language, is_said
from webapp.case_labels import label

# A value the task does not have (yet, or not for this viewer: a client sees only its allowlisted
# variables, R-11) is shown as nothing — `{{ nc_verification.rejected }}` before any verification
# — never as the template text itself.
# A list is shown as its items ("NC-1, NC-2", never "['NC-1', 'NC-2']") and null as nothing.


def _page_language() -> str:
    from webapp.process_texts import request_language  # needs a request; late: no cycle

    try:
        return request_language()
    except RuntimeError:  # rendered outside a request (a test, a mail): the source language
        return "zh_CN"


def _as_read(value: Any) -> Any:
    if value is None:
        return ""
    if is_said(value):  # a reason worded in both languages (domain.said): the page's one
        return in_language(value, _page_language())
    if isinstance(value, list | tuple):
        return ", ".join(str(_as_read(item)) for item in value)
    return value


_env = SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined, finalize=_as_read)
# `{{ onsite.conclusion | label("conclusion") }}`: a stored code as its label in the page's
# language (webapp/case_labels.py), never the raw code.
_env.filters["label"] = lambda code, group: label(group, code)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@lru_cache(maxsize=1024)
def _compiled(text: str) -> Template:
    """Instructions compiled once per process (they are the deployed definitions' texts): Jinja
    compiles a template to Python, about 3 ms, which every task page paid (issue 16)."""
    return _env.from_string(text)


def fill_placeholders(text: str, data: Mapping[str, Any]) -> str:
    """The instructions with `{{ var }}` filled (values HTML-escaped); on a template error the
    text itself, escaped, so the instructions are still shown."""
    try:
        return _compiled(text).render(dict(data))
    except (TemplateError, TypeError, ValueError, ArithmeticError, AttributeError, LookupError):
        return str(escape(text))


def case_reference(business_key: str | None, organisation_names: list[str]) -> str:
    """How a person knows the case (issue 10): its number — the application's, or the
    certificate's for the lifecycle — and the organisation, never an internal id. Instructions
    show it as `{{ case }}`."""
    return " · ".join(part for part in (business_key, "、".join(organisation_names)) if part)


def with_case(
    data: Mapping[str, Any], business_key: str | None, organisation_names: list[str]
) -> dict[str, Any]:
    """The values the instructions are filled from: the task's data as the viewer may see it and
    `case` — the same for the task page and GET /api/v1/tasks/{id} (issue 11)."""
    return {**data, "case": case_reference(business_key, organisation_names)}


def render_instructions(text: str | None, data: Mapping[str, Any]) -> Markup:
    if not text or not text.strip():
        return Markup("")
    return Markup(_markdown.render(fill_placeholders(text, data)))  # noqa: S704 (html disabled)


def render_markdown(text: str | None) -> Markup:
    """A form's or field's description as markdown (lists, emphasis; raw HTML shown as text),
    so a list written one item per line is shown as a list (issue 10)."""
    if not text or not str(text).strip():
        return Markup("")
    return Markup(_markdown.render(str(text)))  # noqa: S704 (html disabled)
