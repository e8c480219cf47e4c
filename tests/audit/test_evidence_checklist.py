"""The evidence checklist in the domain (R-8.5.2, R-8.5.4, R-3): what is recorded so far, the
running score of a day's rows on top of it, and the submit-time row checks, on both databases."""

import json
import random
from datetime import timedelta

from certflow.db import db
from domain import choices
from domain.audit.checklist import checklist_state, running_score
from domain.audit.evidence import evidence_problems
from domain.scoring import score_audit
from tests.audit.test_handlers_audit import (
    AUDITOR,
    INDICATORS,
    all_conform,
    call,
    conform,
    evidence_params,
    make_case,
    start_onsite,
)
from tests.paths import PROCESSES


def random_results(rng: random.Random, items) -> list[dict]:
    results = []
    for item in items:
        choices = ["conform", "nonconform", "not_applicable"]
        if item.kind == "sampled":
            choices.append("sampled")
        result = rng.choice(choices)
        entry = {"item": item.code, "result": result, "sample_size": None, "failures": None}
        if result == "sampled":
            size = rng.randint(1, 20)
            entry.update(sample_size=size, failures=rng.randint(0, size))
        results.append(entry)
    return results


def test_nothing_assessed_has_no_score_yet() -> None:
    score = running_score(INDICATORS, [], [], [])
    assert (score.assessed, score.total, score.result) == (0, 48, None)


def test_running_score_counts_only_the_assessed_items() -> None:
    first, second = INDICATORS.items[0], INDICATORS.items[1]
    score = running_score(
        INDICATORS,
        [
            {"item": first.code, "result": "conform"},
            {"item": second.code, "result": "nonconform"},
        ],
        [],
        [],
    )
    expected = round(first.points * 100 / (first.points + second.points), 2)
    assert score.assessed == 2 and not score.complete
    assert score.result.score == expected
    assert score.result.applicable == first.points + second.points


def test_complete_checklist_scores_as_the_final_score_for_random_checklists() -> None:
    """R-3: once every item is assessed, the running score is the audit's score, exactly."""
    rng = random.Random(27922)
    for _ in range(200):
        results = random_results(rng, INDICATORS.items)
        deductions = rng.sample(["SD-1", "SD-2", "SD-3"], rng.randint(0, 3))
        bonus = rng.sample(["SB-1", "SB-2"], rng.randint(0, 1))
        if all(r["result"] == "not_applicable" for r in results):
            continue
        running = running_score(INDICATORS, results, deductions, bonus)
        assert running.complete
        assert running.result == score_audit(INDICATORS, results, deductions, bonus)


def test_partial_checklist_scores_the_assessed_items_like_a_set_of_only_them() -> None:
    """A partial score is the earned share of the applicable points of the assessed items."""
    rng = random.Random(8)
    for _ in range(100):
        items = rng.sample(INDICATORS.items, rng.randint(1, 47))
        results = random_results(rng, items)
        running = running_score(INDICATORS, results, [], [])
        points = {item.code: item.points for item in items}
        applicable = sum(points[r["item"]] for r in results if r["result"] != "not_applicable")
        assert running.assessed == len(items)
        if applicable == 0:
            assert running.result is None
            continue
        earned = sum(
            points[r["item"]] * (1 - r["failures"] / r["sample_size"])
            if r["result"] == "sampled"
            else points[r["item"]] * (r["result"] == "conform")
            for r in results
        )
        assert abs(running.result.score - earned * 100 / applicable) <= 0.005 + 1e-9


def test_day_two_adds_to_day_one_and_its_rows_replace_earlier_findings(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    day_one = all_conform()[:30]
    call("audit.record_evidence", evidence_params(case, day_one), now, actor=AUDITOR)

    state = checklist_state(db.session, case.audit.id)
    assert sorted(state.recorded) == sorted(f["item_code"] for f in day_one)
    assert state.score.assessed == 30 and state.score.result.score == 100.0

    first = day_one[0]["item_code"]
    day_two = [
        conform(first, result="nonconform", evidence="无书面授权 No written authorisation"),
        *all_conform()[30:],
    ]
    state = checklist_state(db.session, case.audit.id, day_two, ["SD-1"], [])
    assert state.score.complete
    assert state.recorded[first].result == "conform"  # not recorded until submitted
    assert state.special_deductions == ["SD-1"]

    call(
        "audit.record_evidence",
        evidence_params(case, day_two, special_deductions=["SD-1"]),
        now + timedelta(hours=1),
        actor=AUDITOR,
    )
    final = call("audit.compute_score", {"audit_id": case.audit.id}, now + timedelta(hours=2))
    assert final["score"] == state.score.result.score
    assert final["final_score"] == state.score.result.final_score
    assert final["special_deductions"] == 1


def test_rows_that_break_a_rule_stay_out_of_the_running_score(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    sampled = next(item for item in INDICATORS.items if item.kind == "sampled")
    rows = [
        conform("9.9.9.9"),
        conform(sampled.code, result="sampled", sample_size=2, failures=3, evidence="e"),
        conform(INDICATORS.items[0].code),
    ]
    state = checklist_state(db.session, case.audit.id, rows)
    assert state.score.assessed == 1


def test_evidence_problems_name_the_row_and_field(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    qualitative = next(item for item in INDICATORS.items if item.kind == "qualitative")
    sampled = next(item for item in INDICATORS.items if item.kind == "sampled")
    data = evidence_params(
        case,
        [
            conform(INDICATORS.items[0].code),
            conform("9.9.9.9"),
            conform(qualitative.code, result="sampled", sample_size=3, failures=0),
            conform(sampled.code, result="sampled", sample_size=3, failures=4, evidence="e"),
            conform(sampled.code, result="sampled", sample_size=0, failures=0),
            conform(qualitative.code, result="nonconform"),
            conform(qualitative.code, method="telepathy"),
        ],
        special_deductions=[{"code": "SD-99", "evidence": "x"}],
    )
    problems = evidence_problems(db.session, data)
    assert sorted(problems) == [
        "findings/1/item_code",
        "findings/2/result",
        "findings/3/failures",
        "findings/4/sample_size",
        "findings/5/evidence",
        "findings/6/method",
        "special_deductions/0/code",
    ]
    assert problems["findings/3/failures"][0].startswith("R-8.5.2")
    assert problems["findings/2/result"][0].startswith("R-3")
    assert problems["findings/5/evidence"][0].startswith("R-8.5.4")
    assert evidence_problems(db.session, evidence_params(case, all_conform())) == {}


def test_special_items_are_options_of_the_audits_indicator_set(ctx, clock) -> None:
    """Issue 10, R-3: the evidence form's special deductions and bonus items come from the
    indicator set (code as value, wording as label in both languages); a code the set does
    not hold is refused at submit naming the rule."""
    now = clock.now()
    case = make_case(db.session, now)
    data = {"audit_id": case.audit.id}
    deductions = choices.resolve(
        db.session, now, {"source": "special_items", "kind": "deductions"}, data
    )
    assert [(c.value, c.label, c.label_en) for c in deductions] == [
        (s.code, s.text_zh, s.text_en) for s in INDICATORS.special_deductions
    ]
    bonus = choices.resolve(db.session, now, {"source": "special_items", "kind": "bonus"}, data)
    assert [c.value for c in bonus] == [s.code for s in INDICATORS.special_bonus]
    assert choices.resolve(db.session, now, {"source": "special_items"}, data) == []

    schema = json.loads((PROCESSES / "forms" / "evidence.json").read_text())
    submitted = {
        "special_deductions": [
            {"code": "SD-2", "evidence": "x"},
            {"code": "SB-1", "evidence": "x"},
        ],
        "special_bonus": [{"code": "SB-3", "evidence": "x"}],
    }
    errors = choices.problems(db.session, now, schema, submitted, data)
    assert list(errors) == ["special_deductions/1/code"]
    assert errors["special_deductions/1/code"][0].startswith("R-3")
