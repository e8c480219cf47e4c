"""The shared page layout: the navigation entries of the blueprints and template helpers.

A blueprint adds its page to the top navigation with `nav_item`, e.g. the case pages later:

    nav_item("cases.index", lazy_gettext("Cases"), order=20)
    nav_item("admin.users", lazy_gettext("Users"), roles={"admin"}, order=90)

base.html shows the entries the signed-in user may use, in `order`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, request
from flask_babel import lazy_gettext
from flask_login import current_user

from domain.documents import shown_title
from webapp.element_kinds import element_kind
from webapp.i18n import current_language
from webapp.instructions import render_markdown


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy_gettext string
    roles: frozenset[str] | None = None  # None: every signed-in user
    order: int = 50
    sections: frozenset[str] = frozenset()  # more blueprints whose pages highlight this entry
    count: Callable[[], int] | None = None  # a number shown on the entry when not 0


_NAV: dict[str, NavItem] = {}


def nav_item(
    endpoint: str,
    label: object,
    *,
    roles: Iterable[str] | None = None,
    order: int = 50,
    sections: Iterable[str] = (),
    count: Callable[[], int] | None = None,
) -> None:
    _NAV[endpoint] = NavItem(
        endpoint, label, frozenset(roles) if roles else None, order, frozenset(sections), count
    )


def _visible_nav() -> list[NavItem]:
    if not getattr(current_user, "is_authenticated", False):
        return []
    roles = current_user.viewer.roles
    return [
        item
        for item in sorted(_NAV.values(), key=lambda i: (i.order, i.endpoint))
        if item.roles is None or item.roles & roles
    ]


def _is_current(item: NavItem) -> bool:
    blueprint = item.endpoint.split(".", 1)[0]
    return request.blueprint == blueprint or request.blueprint in item.sections


def init_layout(app: Flask) -> None:
    nav_item("inbox.index", lazy_gettext("Inbox"), order=10, sections={"tasks"})
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["element_kind"] = element_kind
    # A generated document's title in the page's language (issue 10: one language per page).
    app.jinja_env.filters["document_title"] = lambda document: shown_title(
        document, current_language()
    )

    @app.context_processor
    def _layout_globals():
        return {"nav_items": _visible_nav(), "nav_is_current": _is_current}
