"""Colour levels of a heatmap (issue 13): each value gets the quartile it falls in among all
values shown (1 = lowest quarter … 4 = highest), so that the colours spread over the diagram
whatever the unit. Equal values get the same level."""

import bisect
import math
from collections.abc import Mapping

LEVELS = 4


def heat_levels(values: Mapping[str, float], levels: int = LEVELS) -> dict[str, int]:
    """{key: level 1..levels}: the share of values at or below the key's value, in `levels`
    equal steps (the largest value is always the top level)."""
    ordered = sorted(values.values())
    return {
        key: max(1, math.ceil(levels * bisect.bisect_right(ordered, value) / len(ordered)))
        for key, value in values.items()
    }
