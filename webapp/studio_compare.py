"""Any two deployed versions of a process compared in the studio (issue 12, "any two versions
can be compared the same way at any time"): the changed elements coloured on the newer diagram
and listed with their changed properties (domain/definition_diff.py), the other files that
changed, and what the change did to the rules (webapp/studio_effect.py)."""

from flask import abort, render_template, request
from flask_babel import pgettext

from certflow.db import db
from domain.definition_diff import diff_definitions
from engine.sources import version_sources, versions_of
from webapp.auth import roles_required
from webapp.studio import READERS, bp
from webapp.studio_decisions import decision_changes_shown
from webapp.studio_effect import DraftEffect, effect_between, rule_summary, traceability_data
from webapp.studio_forms import form_changes


def _chosen(numbers: list[int]) -> tuple[list[int], dict[str, str]]:
    """?a=<older>&b=<newer>; by default the version before the one in force and that one."""
    errors: dict[str, str] = {}
    chosen = []
    for name, default in (("a", numbers[min(1, len(numbers) - 1)]), ("b", numbers[0])):
        value = request.args.get(name, str(default))
        if not value.isdigit() or int(value) not in numbers:
            errors[name] = pgettext("studio", "Choose a version from the list.")
            chosen.append(default)
        else:
            chosen.append(int(value))
    return chosen, errors


@bp.get("/processes/<process_id>/compare")
@roles_required(*READERS)
def compare(process_id: str):
    numbers = [number for number, *_ in versions_of(db.session, process_id)]  # newest first
    if not numbers:
        abort(404)
    (a, b), errors = _chosen(numbers)
    old = version_sources(db.session, process_id, a)
    new = version_sources(db.session, process_id, b)
    files_changed = sorted(
        path
        for path in set(old.files) | set(new.files)
        if path != new.main_path and old.files.get(path) != new.files.get(path)
    )
    traceability = traceability_data()
    page = render_template(
        "studio/compare.html",
        process_id=process_id,
        numbers=numbers,
        a=a,
        b=b,
        old=old,
        new=new,
        diff=diff_definitions(old.files[old.main_path], new.files[new.main_path]),
        effect=DraftEffect(None, effect_between(old.files, new.files, process_id, new.main_path)),
        rule_summary=lambda rule: rule_summary(rule, traceability),
        files_changed=files_changed,
        form_changes=form_changes(old.files, new.files),
        **decision_changes_shown(old.files, new.files),
        errors=errors,
    )
    return page, 422 if errors else 200
