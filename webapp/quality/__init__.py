"""The quality manager's workspace (issue 13): `/quality`.

What an accreditation assessor asks a CB's quality manager for (ISO/IEC 17065 8.5 management
review, 8.6 internal audit): the definitions in force and their approvals, the audit trail, which
rule each element implements, whether the rules were kept case by case, the event log.

Access is the permission table's allowlist (AUDIT_QUALITY: quality_manager, admin); everyone
else 403, logged. Each section is a module of this package that adds its views to `bp` and its
card to the workspace's index with `section(...)`; every module of the package is imported when
the blueprint is registered, so a new section touches no shared file.
"""

import importlib
import pkgutil
from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_babel import lazy_gettext

from certflow.permissions import Permission, roles_with
from webapp.auth import roles_required
from webapp.layout import nav_item

bp = Blueprint("quality", __name__, url_prefix="/quality")
QUALITY_ROLES = tuple(sorted(roles_with(Permission.AUDIT_QUALITY)))
nav_item("quality.index", lazy_gettext("Quality"), roles=set(QUALITY_ROLES), order=85)


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: object  # lazy_gettext
    summary: object  # lazy_gettext
    order: int


_SECTIONS: dict[str, Section] = {}


def section(endpoint: str, title: object, summary: object, *, order: int = 50) -> None:
    """Show a card for `endpoint` on the workspace's index page."""
    _SECTIONS[endpoint] = Section(endpoint, title, summary, order)


@bp.get("")
@roles_required(*QUALITY_ROLES)
def index():
    sections = sorted(_SECTIONS.values(), key=lambda s: (s.order, s.endpoint))
    return render_template("quality/index.html", sections=sections)


def load_sections() -> Blueprint:
    """Import every section module of the package (each adds its views to `bp`)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return bp
