"""Rule references for people: a stored rule id ("R-9.5.1(d)", "R-8.10.3b") shown as the
clause of the certification rules it cites, in words
("《商品售后服务认证实施规则》第9.5.1条（d）"), never as the project's internal requirement id
(issue 10, "Labels everywhere")."""

import re

from flask_babel import pgettext

RULE_ID = re.compile(r"^R-(?P<clause>\d+(?:\.\d+)*)(?:\((?P<paren>[a-z])\)|(?P<letter>[a-z]))?$")


def rule_clause(rule_id: str | None) -> str:
    """The clause in words; a text that is no rule id is returned as it is."""
    match = RULE_ID.match((rule_id or "").strip())
    if match is None:
        return rule_id or ""
    clause = match.group("clause")
    item = match.group("paren") or match.group("letter")
    if item:
        return pgettext(
            "registry",
            "Certification rules, clause %(clause)s (%(item)s)",
            clause=clause,
            item=item,
        )
    return pgettext("registry", "Certification rules, clause %(clause)s", clause=clause)
