"""Indicator sets and audit scoring against GB/T 27922-2011 (R-3), pure Python, no database.

An indicator set is data (`processes/indicators/*.json`, versioned, editable by a process owner):
3 first-level indicators, 15 second-level indicators, and third-level items carrying points and a
kind (`qualitative` or `sampled`), plus the lists of special deductions (特别扣分项) and special
bonus items (特别加分项). `load_indicator_set` reads and validates one; `score_audit` scores the
assessed items of one audit. The star level is *not* decided here: the score and the number of
special deductions are the inputs of the DMN decision `Decision_StarLevel`
(`processes/star_level.dmn`, R-5).
"""

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

QUALITATIVE = "qualitative"
SAMPLED = "sampled"
ITEM_KINDS = (QUALITATIVE, SAMPLED)

CONFORM = "conform"
NONCONFORM = "nonconform"
NOT_APPLICABLE = "not_applicable"
RESULT_SAMPLED = "sampled"
RESULT_VALUES = (CONFORM, NONCONFORM, NOT_APPLICABLE, RESULT_SAMPLED)

FIRST_LEVEL_COUNT = 3
SECOND_LEVEL_COUNT = 15

DEFAULT_INDICATOR_SET_PATH = (
    Path(__file__).resolve().parent.parent / "processes" / "indicators" / "gbt27922-2011.json"
)


# --- indicator set -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A third-level item (评价项): the unit that is assessed and scored."""

    code: str
    text_zh: str
    text_en: str
    points: int
    kind: str  # QUALITATIVE or SAMPLED


@dataclass(frozen=True)
class SecondLevel:
    code: str
    name_zh: str
    name_en: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class FirstLevel:
    code: str
    name_zh: str
    name_en: str
    children: tuple[SecondLevel, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for child in self.children for item in child.items)


@dataclass(frozen=True)
class SpecialItem:
    """A special deduction (特别扣分项, code SD-n) or special bonus (特别加分项, code SB-n)."""

    code: str
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class IndicatorSet:
    code: str
    version: str
    title: str
    source_note: str
    total_points: int
    indicators: tuple[FirstLevel, ...]
    special_deductions: tuple[SpecialItem, ...]
    special_bonus: tuple[SpecialItem, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        """Every third-level item, in document order."""
        return tuple(item for first in self.indicators for item in first.items)

    @property
    def second_levels(self) -> tuple[SecondLevel, ...]:
        return tuple(child for first in self.indicators for child in first.children)

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)


def load_indicator_set(path: str | Path) -> IndicatorSet:
    """Read and validate an indicator set JSON file (see `parse_indicator_set` for the checks)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"indicator set {path}: cannot be read: {err}") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"indicator set {path}: not valid JSON: {err}") from err
    return parse_indicator_set(raw, source=str(path))


def parse_indicator_set(raw: Any, source: str = "(data)") -> IndicatorSet:
    """Validate already-decoded indicator set data (e.g. JSON stored with a deployed version).

    Checked: the shape (required keys and types); every code unique across indicators, items
    and special items; a child's code starts with its parent's code and a dot; points are
    positive integers; kinds are `qualitative` or `sampled`; exactly 3 first-level and 15
    second-level indicators; every second-level indicator has at least one item; the points add
    up to the declared `total_points`. All problems are reported together in one ValueError
    whose message names `source`.
    """
    errors: list[str] = []
    indicator_set = _build_indicator_set(raw, errors)
    if indicator_set is not None:
        errors.extend(_structure_errors(indicator_set))
    if errors or indicator_set is None:
        details = "\n".join(f"  - {error}" for error in errors)
        raise ValueError(f"indicator set {source} is invalid:\n{details}")
    return indicator_set


def _text(obj: Mapping[str, Any], key: str, where: str, errors: list[str]) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: '{key}' must be a non-empty string")
        return ""
    return value


def _list(obj: Mapping[str, Any], key: str, where: str, errors: list[str]) -> list[Any]:
    value = obj.get(key)
    if not isinstance(value, list):
        errors.append(f"{where}: '{key}' must be a list")
        return []
    return value


def _objects(values: list[Any], where: str, errors: list[str]) -> list[Mapping[str, Any]]:
    found = []
    for index, value in enumerate(values):
        if isinstance(value, Mapping):
            found.append(value)
        else:
            errors.append(f"{where}[{index}]: must be an object")
    return found


def _build_indicator_set(raw: Any, errors: list[str]) -> IndicatorSet | None:
    if not isinstance(raw, Mapping):
        errors.append("top level: must be an object")
        return None
    total_points = raw.get("total_points")
    if not _positive_int(total_points):
        errors.append("top level: 'total_points' must be a positive integer")
        total_points = 0
    firsts = []
    for first in _objects(_list(raw, "indicators", "top level", errors), "indicators", errors):
        first_code = _text(first, "code", "first-level indicator", errors)
        where = f"indicator {first_code or '?'}"
        seconds = []
        for second in _objects(_list(first, "children", where, errors), where, errors):
            second_code = _text(second, "code", f"{where} child", errors)
            second_where = f"indicator {second_code or '?'}"
            items = []
            for item in _objects(
                _list(second, "items", second_where, errors), second_where, errors
            ):
                item_code = _text(item, "code", f"{second_where} item", errors)
                item_where = f"item {item_code or '?'}"
                points = item.get("points")
                if not _positive_int(points):
                    errors.append(
                        f"{item_where}: 'points' must be a positive integer, got {points!r}"
                    )
                    points = 0
                kind = item.get("kind")
                if kind not in ITEM_KINDS:
                    errors.append(f"{item_where}: 'kind' must be one of {ITEM_KINDS}, got {kind!r}")
                items.append(
                    Item(
                        code=item_code,
                        text_zh=_text(item, "text_zh", item_where, errors),
                        text_en=_text(item, "text_en", item_where, errors),
                        points=points,
                        kind=str(kind),
                    )
                )
            seconds.append(
                SecondLevel(
                    code=second_code,
                    name_zh=_text(second, "name_zh", second_where, errors),
                    name_en=_text(second, "name_en", second_where, errors),
                    items=tuple(items),
                )
            )
        firsts.append(
            FirstLevel(
                code=first_code,
                name_zh=_text(first, "name_zh", where, errors),
                name_en=_text(first, "name_en", where, errors),
                children=tuple(seconds),
            )
        )
    return IndicatorSet(
        code=_text(raw, "code", "top level", errors),
        version=_text(raw, "version", "top level", errors),
        title=_text(raw, "title", "top level", errors),
        source_note=_text(raw, "source_note", "top level", errors),
        total_points=total_points,
        indicators=tuple(firsts),
        special_deductions=_special_items(raw, "special_deductions", errors),
        special_bonus=_special_items(raw, "special_bonus", errors),
    )


def _special_items(raw: Mapping[str, Any], key: str, errors: list[str]) -> tuple[SpecialItem, ...]:
    found = []
    for entry in _objects(_list(raw, key, "top level", errors), key, errors):
        code = _text(entry, "code", f"{key} entry", errors)
        where = f"{key} {code or '?'}"
        found.append(
            SpecialItem(
                code=code,
                text_zh=_text(entry, "text_zh", where, errors),
                text_en=_text(entry, "text_en", where, errors),
            )
        )
    return tuple(found)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _structure_errors(indicator_set: IndicatorSet) -> list[str]:
    errors = []
    if len(indicator_set.indicators) != FIRST_LEVEL_COUNT:
        errors.append(
            f"expected {FIRST_LEVEL_COUNT} first-level indicators, "
            f"found {len(indicator_set.indicators)}"
        )
    if len(indicator_set.second_levels) != SECOND_LEVEL_COUNT:
        errors.append(
            f"expected {SECOND_LEVEL_COUNT} second-level indicators, "
            f"found {len(indicator_set.second_levels)}"
        )
    codes: list[str] = []
    for first in indicator_set.indicators:
        codes.append(first.code)
        for second in first.children:
            codes.append(second.code)
            if first.code and second.code and not second.code.startswith(first.code + "."):
                errors.append(f"indicator {second.code}: code must start with '{first.code}.'")
            if not second.items:
                errors.append(f"indicator {second.code}: has no items")
            for item in second.items:
                codes.append(item.code)
                if second.code and item.code and not item.code.startswith(second.code + "."):
                    errors.append(f"item {item.code}: code must start with '{second.code}.'")
    codes.extend(special.code for special in indicator_set.special_deductions)
    codes.extend(special.code for special in indicator_set.special_bonus)
    duplicates = sorted(code for code, count in Counter(codes).items() if code and count > 1)
    if duplicates:
        errors.append(f"duplicate codes: {', '.join(duplicates)}")
    total = sum(item.points for item in indicator_set.items)
    if indicator_set.total_points and total != indicator_set.total_points:
        errors.append(
            f"item points add up to {total}, but 'total_points' declares "
            f"{indicator_set.total_points}"
        )
    return errors


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstLevelScore:
    """Breakdown for one first-level indicator; `score` is None when all its items are excluded."""

    code: str
    name_zh: str
    name_en: str
    earned: float
    applicable: int
    score: float | None


@dataclass(frozen=True)
class ScoreResult:
    score: float  # earned / applicable x 100, 2 decimals
    final_score: float  # score - special deductions + bonus (at most 1), clamped to 0..100
    earned: float  # points earned, 2 decimals (the score is computed from the exact value)
    applicable: int  # points of the items not excluded (删减)
    special_deduction_count: int
    bonus_applied: bool
    per_first_level: dict[str, FirstLevelScore]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, e.g. for workflow task data (DMN inputs: final_score, count)."""
        return {
            "score": self.score,
            "final_score": self.final_score,
            "earned": self.earned,
            "applicable": self.applicable,
            "special_deduction_count": self.special_deduction_count,
            "bonus_applied": self.bonus_applied,
            "per_first_level": {
                code: {
                    "name_zh": level.name_zh,
                    "name_en": level.name_en,
                    "earned": level.earned,
                    "applicable": level.applicable,
                    "score": level.score,
                }
                for code, level in self.per_first_level.items()
            },
        }


def score_audit(
    indicator_set: IndicatorSet,
    results: Sequence[Mapping[str, Any]],
    special_deductions: Sequence[str],
    special_bonus: Sequence[str],
) -> ScoreResult:
    """Score one audit against an indicator set (R-3; model from shared/notes/domain.md).

    `results` holds one entry per third-level item of the set, each
    `{"item": code, "result": r, "sample_size": n, "failures": f}` with `r` one of:

    - `"conform"`: the item earns all its points;
    - `"nonconform"`: the item earns nothing (a failed qualitative item loses all its points;
      on a sampled item this means the whole requirement is missing);
    - `"sampled"` (sampled items only; `sample_size` > 0 and 0 <= `failures` <= `sample_size`
      are required): the item loses points in proportion to the failure rate,
      earned = points x (1 - failures / sample_size);
    - `"not_applicable"` (删减, excluded): the item is not scored and its points leave the
      applicable total.

    `sample_size` and `failures` are read only for `"sampled"`. Every item must be assessed
    exactly once: missing, unknown or repeated item codes, or invalid entries, raise ValueError
    listing all of them.

    Formula (domain.md, "Evaluation model"):

        score       = earned / applicable x 100        (rounded half up to 2 decimals)
        final_score = score - D + min(B, 1)            (clamped to 0..100)

    where `applicable` is the sum of points of the items not excluded, D = len(special_deductions)
    (each 特别扣分项 found costs 1 point outside the score and must be corrected; the same code
    may appear more than once, one entry per occurrence) and B = len(special_bonus) (a 特别加分项
    adds 1 point, at most once). Codes must belong to the set's lists. The star level is then
    decided by the DMN `Decision_StarLevel` from `final_score` and D (R-5), not here.
    Arithmetic is exact (fractions) until the final rounding, so boundaries such as 70.00 hold.
    """
    items = {item.code: item for item in indicator_set.items}
    first_of = {item.code: first for first in indicator_set.indicators for item in first.items}
    errors: list[str] = []
    assessed: dict[str, Mapping[str, Any]] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, entry in enumerate(results):
        if not isinstance(entry, Mapping):
            errors.append(f"result #{index + 1}: must be an object")
            continue
        code = entry.get("item")
        if not isinstance(code, str) or code not in items:
            unknown.append(repr(code) if not isinstance(code, str) else code)
            continue
        if code in assessed:
            repeated.append(code)
            continue
        assessed[code] = entry
        error = _result_error(items[code], entry)
        if error:
            errors.append(f"item {code}: {error}")
    missing = [code for code in items if code not in assessed]
    if missing:
        errors.insert(0, f"items not assessed: {', '.join(missing)}")
    if unknown:
        errors.insert(0, f"unknown items (not in the indicator set): {', '.join(unknown)}")
    if repeated:
        errors.append(f"items assessed more than once: {', '.join(sorted(set(repeated)))}")
    known_deductions = {special.code for special in indicator_set.special_deductions}
    known_bonus = {special.code for special in indicator_set.special_bonus}
    bad_deductions = [code for code in special_deductions if code not in known_deductions]
    bad_bonus = [code for code in special_bonus if code not in known_bonus]
    if bad_deductions:
        errors.append(f"unknown special deductions: {', '.join(map(str, bad_deductions))}")
    if bad_bonus:
        errors.append(f"unknown special bonus items: {', '.join(map(str, bad_bonus))}")
    if errors:
        label = f"{indicator_set.code} {indicator_set.version}"
        raise ValueError(f"audit results do not fit indicator set {label}: " + "; ".join(errors))

    earned_by_level: dict[str, Fraction] = {
        first.code: Fraction(0) for first in indicator_set.indicators
    }
    applicable_by_level: dict[str, int] = {first.code: 0 for first in indicator_set.indicators}
    for code, entry in assessed.items():
        item, level = items[code], first_of[code].code
        result = entry["result"]
        if result == NOT_APPLICABLE:
            continue
        applicable_by_level[level] += item.points
        if result == CONFORM:
            earned_by_level[level] += item.points
        elif result == RESULT_SAMPLED:
            failure_rate = Fraction(entry["failures"], entry["sample_size"])
            earned_by_level[level] += item.points * (1 - failure_rate)
    earned = sum(earned_by_level.values(), Fraction(0))
    applicable = sum(applicable_by_level.values())
    if applicable == 0:
        raise ValueError("every item is not_applicable: nothing to score")

    score_hundredths = _round_half_up(earned * 10000 / applicable)
    deductions = len(special_deductions)
    bonus_applied = len(special_bonus) > 0
    final_hundredths = score_hundredths - 100 * deductions + (100 if bonus_applied else 0)
    final_hundredths = min(max(final_hundredths, 0), 10000)

    per_first_level = {
        first.code: FirstLevelScore(
            code=first.code,
            name_zh=first.name_zh,
            name_en=first.name_en,
            earned=_round_half_up(earned_by_level[first.code] * 100) / 100,
            applicable=applicable_by_level[first.code],
            score=(
                _round_half_up(
                    earned_by_level[first.code] * 10000 / applicable_by_level[first.code]
                )
                / 100
                if applicable_by_level[first.code]
                else None
            ),
        )
        for first in indicator_set.indicators
    }
    return ScoreResult(
        score=score_hundredths / 100,
        final_score=final_hundredths / 100,
        earned=_round_half_up(earned * 100) / 100,
        applicable=applicable,
        special_deduction_count=deductions,
        bonus_applied=bonus_applied,
        per_first_level=per_first_level,
    )


def _result_error(item: Item, entry: Mapping[str, Any]) -> str | None:
    result = entry.get("result")
    if result not in RESULT_VALUES:
        return f"'result' must be one of {RESULT_VALUES}, got {result!r}"
    if result != RESULT_SAMPLED:
        return None
    if item.kind != SAMPLED:
        return "a qualitative item cannot have the result 'sampled' (use conform or nonconform)"
    sample_size, failures = entry.get("sample_size"), entry.get("failures")
    if not _positive_int(sample_size):
        return f"'sample_size' must be a positive integer, got {sample_size!r}"
    if not (isinstance(failures, int) and not isinstance(failures, bool)) or failures < 0:
        return f"'failures' must be a non-negative integer, got {failures!r}"
    if failures > sample_size:
        return f"'failures' ({failures}) exceeds 'sample_size' ({sample_size})"
    return None


def _round_half_up(value: Fraction) -> int:
    """Nearest integer, halves rounded up (values here are never negative)."""
    return math.floor(value + Fraction(1, 2))
