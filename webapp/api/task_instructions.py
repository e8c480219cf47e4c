"""A task's instructions in the API exactly as the task page shows them (issue 11): the same
placeholders (`{{ case }}`, the task's data as the caller may see it, R-11) filled by the same
sandboxed template environment, and the same markdown rendering (webapp/instructions.py)."""

from typing import Any

from engine.service import TaskView
from webapp.access import instance_organisations
from webapp.instructions import fill_placeholders, render_instructions, with_case


def task_instructions(row: TaskView, text: str | None, data: dict[str, Any]) -> dict[str, str]:
    organisations = instance_organisations(row.instance_id, row.business_key)
    values = with_case(data, row.business_key, [o.name for o in organisations])
    return {
        "instructions": fill_placeholders(text, values) if text and text.strip() else "",
        "instructions_html": str(render_instructions(text, values)),
    }
