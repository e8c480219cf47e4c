"""Option sources of the indicator set (issue 10, R-3): the special deductions (特别扣分项, SD-n)
and special bonus items (特别加分项, SB-n) an auditor records with the evidence — chosen by their
wording in the set the audit is assessed against, never typed as codes. A code the set does not
hold is refused at submit (422), as `score_audit` would refuse it later.
"""

from domain.audit.checklist import checklist_indicator_set
from domain.errors import RuleViolation
from domain.options import Choice, OptionContext, option_source
from domain.options_audit import audit_of

# The declaration's "kind" → the set's list.
KINDS = ("deductions", "bonus")


@option_source("special_items", "R-3")
def special_items(ctx: OptionContext) -> list[Choice]:
    """The special deductions (``"kind": "deductions"``) or special bonus items (``"bonus"``)
    of the audit's indicator set; the stored value is the item's code."""
    audit = audit_of(ctx)
    kind = ctx.params.get("kind")
    if audit is None or kind not in KINDS:
        return []
    try:
        indicator_set = checklist_indicator_set(ctx.session, audit)
    except RuleViolation:  # no indicator set is loaded: nothing can be chosen
        return []
    if kind == "deductions":
        items = indicator_set.special_deductions
    else:
        items = indicator_set.special_bonus
    return [Choice(item.code, item.text_zh, label_en=item.text_en) for item in items]
