"""`domain.scoring`: the GB/T 27922-2011 indicator set (data) and audit scoring (R-3), no DB."""

import copy
import json
from pathlib import Path

import pytest

from domain.scoring import (
    DEFAULT_INDICATOR_SET_PATH,
    IndicatorSet,
    ScoreResult,
    load_indicator_set,
    parse_indicator_set,
    score_audit,
)
from tests.paths import ROOT

INDICATORS = ROOT / "processes" / "indicators" / "gbt27922-2011.json"

SECOND_LEVEL_NAMES = {
    "5.1": ["组织架构", "人员配置", "资源配置", "规范要求", "监督", "改进", "服务文化"],
    "5.2": ["商品信息", "技术支持", "配送", "维修", "质量保证", "废弃商品回收"],
    "5.3": ["顾客关系", "投诉处理"],
}


@pytest.fixture(scope="module")
def indicator_set() -> IndicatorSet:
    return load_indicator_set(INDICATORS)


def all_conform(indicator_set: IndicatorSet) -> list[dict]:
    return [{"item": item.code, "result": "conform"} for item in indicator_set.items]


def with_result(results: list[dict], code: str, **changes) -> list[dict]:
    changed = copy.deepcopy(results)
    for entry in changed:
        if entry["item"] == code:
            entry.update(changes)
            return changed
    raise AssertionError(code)


def item_of(indicator_set: IndicatorSet, kind: str, points: int | None = None):
    return next(
        item
        for item in indicator_set.items
        if item.kind == kind and (points is None or item.points == points)
    )


# --- indicator set ------------------------------------------------------------------------------


def test_indicator_file_structure(indicator_set: IndicatorSet) -> None:
    assert DEFAULT_INDICATOR_SET_PATH == INDICATORS
    assert indicator_set.code == "GB/T 27922-2011"
    assert indicator_set.version == "2011.1"
    assert "editable" in indicator_set.source_note
    assert [first.code for first in indicator_set.indicators] == ["5.1", "5.2", "5.3"]
    assert [first.name_zh for first in indicator_set.indicators] == [
        "售后服务体系",
        "商品服务",
        "顾客服务",
    ]
    assert len(indicator_set.second_levels) == 15
    for first in indicator_set.indicators:
        assert [child.name_zh for child in first.children] == SECOND_LEVEL_NAMES[first.code]
        for index, child in enumerate(first.children, 1):
            assert child.code == f"{first.code}.{index}"
            assert 2 <= len(child.items) <= 4
            for item_index, item in enumerate(child.items, 1):
                assert item.code == f"{child.code}.{item_index}"
                assert item.text_zh and item.text_en
                assert item.kind in ("qualitative", "sampled")
    assert indicator_set.second_levels[0].code == "5.1.1"
    assert indicator_set.second_levels[0].items[0].code == "5.1.1.1"


def test_indicator_points_total_1000(indicator_set: IndicatorSet) -> None:
    points = [item.points for item in indicator_set.items]
    assert all(type(p) is int and p > 0 for p in points)
    assert sum(points) == 1000 == indicator_set.total_points
    assert len({item.code for item in indicator_set.items}) == len(points)


def test_special_items(indicator_set: IndicatorSet) -> None:
    deductions = [special.code for special in indicator_set.special_deductions]
    bonus = [special.code for special in indicator_set.special_bonus]
    assert deductions[0] == "SD-1" and len(deductions) >= 3
    assert bonus[0] == "SB-1"
    assert "重大服务质量事故" in indicator_set.special_deductions[0].text_zh
    assert all(special.text_zh and special.text_en for special in indicator_set.special_bonus)


def write_variant(tmp_path: Path, change) -> Path:
    data = json.loads(INDICATORS.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def first_item(data: dict) -> dict:
    return data["indicators"][0]["children"][0]["items"][0]


def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    def duplicate(data: dict) -> None:
        data["indicators"][0]["children"][0]["items"][1]["code"] = "5.1.1.1"

    with pytest.raises(ValueError, match=r"duplicate codes: 5\.1\.1\.1"):
        load_indicator_set(write_variant(tmp_path, duplicate))


@pytest.mark.parametrize("points", [0, -5, 2.5, "20", True, None])
def test_points_must_be_positive_integers(tmp_path: Path, points) -> None:
    def set_points(data: dict) -> None:
        first_item(data)["points"] = points

    with pytest.raises(ValueError, match=r"item 5\.1\.1\.1: 'points' must be a positive integer"):
        load_indicator_set(write_variant(tmp_path, set_points))


def test_points_must_add_up_to_the_declared_total(tmp_path: Path) -> None:
    def more_points(data: dict) -> None:
        first_item(data)["points"] += 5

    with pytest.raises(ValueError, match="add up to 1005, but 'total_points' declares 1000"):
        load_indicator_set(write_variant(tmp_path, more_points))


def test_three_first_level_and_fifteen_second_level(tmp_path: Path) -> None:
    def drop_first_level(data: dict) -> None:
        data["indicators"].pop()

    with pytest.raises(ValueError) as caught:
        load_indicator_set(write_variant(tmp_path, drop_first_level))
    message = str(caught.value)
    assert "expected 3 first-level indicators, found 2" in message
    assert "expected 15 second-level indicators, found 13" in message


def test_kind_and_code_nesting_are_checked(tmp_path: Path) -> None:
    def break_item(data: dict) -> None:
        first_item(data)["kind"] = "sometimes"
        first_item(data)["code"] = "5.2.9.9"

    with pytest.raises(ValueError) as caught:
        load_indicator_set(write_variant(tmp_path, break_item))
    message = str(caught.value)
    assert "'kind' must be one of ('qualitative', 'sampled'), got 'sometimes'" in message
    assert "item 5.2.9.9: code must start with '5.1.1.'" in message


def test_missing_keys_and_bad_json(tmp_path: Path) -> None:
    def drop_name(data: dict) -> None:
        del data["indicators"][1]["name_zh"]

    with pytest.raises(ValueError, match="indicator 5.2: 'name_zh' must be a non-empty string"):
        load_indicator_set(write_variant(tmp_path, drop_name))
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_indicator_set(broken)
    with pytest.raises(ValueError, match="cannot be read"):
        load_indicator_set(tmp_path / "absent.json")


def test_parse_indicator_set_from_data() -> None:
    data = json.loads(INDICATORS.read_text(encoding="utf-8"))
    assert parse_indicator_set(data) == load_indicator_set(INDICATORS)
    data["indicators"][2]["children"][1]["items"] = []
    with pytest.raises(ValueError) as caught:
        parse_indicator_set(data, source="GB/T 27922-2011 2011.2")
    message = str(caught.value)
    assert message.startswith("indicator set GB/T 27922-2011 2011.2 is invalid:")
    assert "indicator 5.3.2: has no items" in message
    with pytest.raises(ValueError, match="top level: must be an object"):
        parse_indicator_set([])


# --- scoring ------------------------------------------------------------------------------------


def test_all_conform_scores_100(indicator_set: IndicatorSet) -> None:
    result = score_audit(indicator_set, all_conform(indicator_set), [], [])
    assert isinstance(result, ScoreResult)
    assert result.score == 100.0 and result.final_score == 100.0
    assert result.earned == 1000 and result.applicable == 1000
    assert result.special_deduction_count == 0 and result.bonus_applied is False
    assert list(result.per_first_level) == ["5.1", "5.2", "5.3"]
    assert {code: level.score for code, level in result.per_first_level.items()} == {
        "5.1": 100.0,
        "5.2": 100.0,
        "5.3": 100.0,
    }
    assert sum(level.applicable for level in result.per_first_level.values()) == 1000


def test_qualitative_nonconformity_loses_all_its_points(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "qualitative")
    results = with_result(all_conform(indicator_set), item.code, result="nonconform")
    result = score_audit(indicator_set, results, [], [])
    assert result.earned == 1000 - item.points
    assert result.score == 100 - item.points / 10


def test_qualitative_nonconformity_of_30_points(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "qualitative", 30)
    results = with_result(all_conform(indicator_set), item.code, result="nonconform")
    result = score_audit(indicator_set, results, [], [])
    assert result.score == 97.0
    first_level = item.code.rsplit(".", 2)[0]
    assert (
        result.per_first_level[first_level].earned < result.per_first_level[first_level].applicable
    )


def test_sampled_item_loses_points_in_proportion(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "sampled", 20)
    results = with_result(
        all_conform(indicator_set), item.code, result="sampled", sample_size=10, failures=2
    )
    result = score_audit(indicator_set, results, [], [])
    assert result.earned == 996  # 20 x 2/10 = 4 points lost
    assert result.score == 99.6


def test_sampled_without_failures_and_sampled_nonconform(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "sampled", 20)
    base = all_conform(indicator_set)
    clean = with_result(base, item.code, result="sampled", sample_size=7, failures=0)
    assert score_audit(indicator_set, clean, [], []).score == 100.0
    total_failure = with_result(base, item.code, result="sampled", sample_size=7, failures=7)
    assert score_audit(indicator_set, total_failure, [], []).earned == 980
    missing = with_result(base, item.code, result="nonconform")
    assert score_audit(indicator_set, missing, [], []).earned == 980


def test_fractional_loss_is_exact_then_rounded(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "sampled", 20)
    results = with_result(
        all_conform(indicator_set), item.code, result="sampled", sample_size=3, failures=1
    )
    result = score_audit(indicator_set, results, [], [])
    assert result.earned == 993.33  # 1000 - 20/3
    assert result.score == 99.33


def test_not_applicable_items_leave_the_denominator(indicator_set: IndicatorSet) -> None:
    excluded = item_of(indicator_set, "qualitative", 30)
    failed = item_of(indicator_set, "qualitative", 20)
    results = with_result(all_conform(indicator_set), excluded.code, result="not_applicable")
    result = score_audit(indicator_set, results, [], [])
    assert result.applicable == 970 and result.earned == 970 and result.score == 100.0
    results = with_result(results, failed.code, result="nonconform")
    result = score_audit(indicator_set, results, [], [])
    assert result.applicable == 970 and result.earned == 950
    assert result.score == round(950 / 970 * 100, 2) == 97.94


def test_whole_first_level_excluded_has_no_level_score(indicator_set: IndicatorSet) -> None:
    results = all_conform(indicator_set)
    for entry in results:
        if entry["item"].startswith("5.3."):
            entry["result"] = "not_applicable"
    result = score_audit(indicator_set, results, [], [])
    assert result.per_first_level["5.3"].score is None
    assert result.per_first_level["5.3"].applicable == 0
    assert result.applicable == 650 and result.score == 100.0


def test_boundary_score_is_exact(indicator_set: IndicatorSet) -> None:
    # Lose exactly 300 of 1000 points: the score must be 70.0, not 69.99999...
    results = all_conform(indicator_set)
    lost = 0
    for entry, item in zip(results, indicator_set.items, strict=True):
        if lost + item.points <= 300:
            entry["result"] = "nonconform"
            lost += item.points
    assert lost == 300
    assert score_audit(indicator_set, results, [], []).score == 70.0


def test_missing_items_raise(indicator_set: IndicatorSet) -> None:
    results = all_conform(indicator_set)[2:]
    with pytest.raises(ValueError, match=r"items not assessed: 5\.1\.1\.1, 5\.1\.1\.2"):
        score_audit(indicator_set, results, [], [])


def test_unknown_and_repeated_items_raise(indicator_set: IndicatorSet) -> None:
    results = [*all_conform(indicator_set), {"item": "9.9.9.9", "result": "conform"}]
    results.append({"item": "5.1.1.1", "result": "nonconform"})
    with pytest.raises(ValueError) as caught:
        score_audit(indicator_set, results, [], [])
    message = str(caught.value)
    assert "unknown items (not in the indicator set): 9.9.9.9" in message
    assert "items assessed more than once: 5.1.1.1" in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"result": "passed"}, "'result' must be one of"),
        (
            {"result": "sampled", "sample_size": 0, "failures": 0},
            "'sample_size' must be a positive",
        ),
        ({"result": "sampled", "failures": 1}, "'sample_size' must be a positive"),
        ({"result": "sampled", "sample_size": 5, "failures": -1}, "'failures' must be a non-neg"),
        ({"result": "sampled", "sample_size": 5, "failures": 6}, "exceeds 'sample_size' (5)"),
    ],
)
def test_invalid_results_raise(indicator_set: IndicatorSet, changes: dict, fragment: str) -> None:
    item = item_of(indicator_set, "sampled")
    results = with_result(all_conform(indicator_set), item.code, **changes)
    with pytest.raises(ValueError) as caught:
        score_audit(indicator_set, results, [], [])
    assert f"item {item.code}: " in str(caught.value)
    assert fragment in str(caught.value)


def test_qualitative_item_cannot_be_sampled(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "qualitative")
    results = with_result(
        all_conform(indicator_set), item.code, result="sampled", sample_size=5, failures=1
    )
    with pytest.raises(ValueError, match="a qualitative item cannot have the result 'sampled'"):
        score_audit(indicator_set, results, [], [])


def test_all_not_applicable_raises(indicator_set: IndicatorSet) -> None:
    results = [{"item": item.code, "result": "not_applicable"} for item in indicator_set.items]
    with pytest.raises(ValueError, match="nothing to score"):
        score_audit(indicator_set, results, [], [])


# --- special deductions and bonus -------------------------------------------------------------


def test_each_special_deduction_costs_one_point_outside_the_score(
    indicator_set: IndicatorSet,
) -> None:
    item = item_of(indicator_set, "qualitative", 30)
    results = with_result(all_conform(indicator_set), item.code, result="nonconform")
    result = score_audit(indicator_set, results, ["SD-1", "SD-3"], [])
    assert result.score == 97.0  # the score itself is untouched
    assert result.final_score == 95.0
    assert result.special_deduction_count == 2


def test_repeated_special_deduction_counts_each_occurrence(indicator_set: IndicatorSet) -> None:
    result = score_audit(indicator_set, all_conform(indicator_set), ["SD-2", "SD-2"], [])
    assert result.special_deduction_count == 2 and result.final_score == 98.0


def test_special_bonus_adds_one_point_at_most_once(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "qualitative", 30)
    results = with_result(all_conform(indicator_set), item.code, result="nonconform")
    one = score_audit(indicator_set, results, [], ["SB-1"])
    assert one.final_score == 98.0 and one.bonus_applied is True
    several = score_audit(indicator_set, results, [], ["SB-1", "SB-2", "SB-3"])
    assert several.final_score == 98.0
    both = score_audit(indicator_set, results, ["SD-1"], ["SB-1", "SB-2"])
    assert both.final_score == 97.0


def test_final_score_is_clamped(indicator_set: IndicatorSet) -> None:
    top = score_audit(indicator_set, all_conform(indicator_set), [], ["SB-1"])
    assert top.score == 100.0 and top.final_score == 100.0
    nothing = [{"item": item.code, "result": "nonconform"} for item in indicator_set.items]
    bottom = score_audit(indicator_set, nothing, ["SD-1"], [])
    assert bottom.score == 0.0 and bottom.final_score == 0.0


def test_unknown_special_codes_raise(indicator_set: IndicatorSet) -> None:
    with pytest.raises(ValueError, match="unknown special deductions: SD-99"):
        score_audit(indicator_set, all_conform(indicator_set), ["SD-1", "SD-99"], [])
    with pytest.raises(ValueError, match="unknown special bonus items: SD-1"):
        score_audit(indicator_set, all_conform(indicator_set), [], ["SD-1"])


def test_to_dict_is_json_ready(indicator_set: IndicatorSet) -> None:
    item = item_of(indicator_set, "sampled", 20)
    results = with_result(
        all_conform(indicator_set), item.code, result="sampled", sample_size=10, failures=2
    )
    data = score_audit(indicator_set, results, ["SD-1"], ["SB-1"]).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["score"] == 99.6 and data["final_score"] == 99.6
    assert data["special_deduction_count"] == 1 and data["bonus_applied"] is True
    assert set(data["per_first_level"]) == {"5.1", "5.2", "5.3"}
