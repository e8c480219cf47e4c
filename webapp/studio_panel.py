"""The properties panel's server side beyond the catalogue (webapp/studio.py panel_catalogue):
the preview of a user task's instructions, rendered exactly as the task page renders them
(webapp/instructions.py: sandboxed placeholders, markdown without raw HTML) against sample case
data — a sample application (the fields of the application form the certification steps'
instructions cite, and `{{ case }}`); other placeholders show as nothing, as they do on a task
whose data lacks them (issue 12, "Editing")."""

from flask import jsonify, request
from flask_babel import gettext as _

from webapp.auth import roles_required
from webapp.instructions import render_instructions, with_case
from webapp.studio import READERS, bp, get_draft

MAX_INSTRUCTIONS_CHARS = 20_000  # far above any instructions certflow's diagrams carry
SAMPLE_NUMBER = "CF-2026-0001"


def sample_case() -> dict:
    """An application as the certification process holds it once submitted (obviously
    fictitious: the USCC is the documented example number)."""
    organisation = _("Sample Service Co., Ltd.")
    data = {
        "application": {"number": SAMPLE_NUMBER},
        "org_name": organisation,
        "uscc": "91350100M000100Y43",
        "requested_level": 4,
        "headcount": 120,
        "sites": [{"name": organisation}],
        "shift_work": False,
        "scope": _("After-sales service of household appliances"),
    }
    return with_case(data, SAMPLE_NUMBER, [organisation])


@bp.post("/drafts/<int:draft_id>/instructions-preview")
@roles_required(*READERS)
def instructions_preview(draft_id: int):
    get_draft(draft_id)  # 404 for a draft that does not exist
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text) > MAX_INSTRUCTIONS_CHARS:
        return jsonify(
            error=_(
                "The instructions must be a text of at most %(n)d characters.",
                n=MAX_INSTRUCTIONS_CHARS,
            ),
            field="text",
        ), 422
    return jsonify(html=str(render_instructions(text, sample_case())))
