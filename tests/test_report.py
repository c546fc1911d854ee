"""Rows aligned by video id, intervals over seeds and videos, verdicts, claims, and the table/markdown output.

Scores are synthetic and built so every expected verdict is far from the decision boundary: a
"model with accuracy p" is right on the first ``round(p * n)`` videos of one seeded ordering of
the test set (shared by all models, as real models share the hard videos), and a row's seeds
differ by a point or so. Calibration under noise is tested separately, by simulation
(``tests/test_verdict_calibration.py``).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from replicate import report
from replicate.report import (
    REPORTED_ONLY,
    Claim,
    align,
    claims_table,
    compare_table,
    evaluate_aligned,
    evaluate_claim,
    format_gap,
    gap_interval,
    paper_vs_ours_bars,
    seed_gap,
    to_markdown,
    verdict,
    verdict_summary,
    write_table,
)

N_VIDEOS = 500
IDS = [f"v{j:04d}" for j in range(N_VIDEOS)]
SEED_OFFSETS = (-0.01, 0.0, 0.01)  # a row's seeds: one point apart


def correct(accuracy: float, n: int = N_VIDEOS, order_seed: int = 0) -> np.ndarray:
    """0/1 correctness on ``n`` videos: right on the first ``round(accuracy * n)`` of a seeded ordering."""
    out = np.zeros(n)
    out[np.random.default_rng(order_seed).permutation(n)[: round(accuracy * n)]] = 1.0
    return out


def row(accuracy: float, offsets=SEED_OFFSETS, order_seed: int = 0) -> dict:
    """RowScores: seed -> {video id: 0/1}, one seed per offset around ``accuracy``."""
    return {s: dict(zip(IDS, correct(accuracy + o, order_seed=order_seed))) for s, o in enumerate(offsets)}


def array(accuracy: float, offsets=SEED_OFFSETS) -> np.ndarray:
    """The same row as an aligned array (n_seeds, n_videos)."""
    return np.stack([correct(accuracy + o) for o in offsets])


def shuffled(scores: dict, seed: int) -> dict:
    """``scores`` with every seed's video ids inserted in a different random order (same values per id)."""
    rng = np.random.default_rng(seed)
    out = {}
    for s, per_video in scores.items():
        ids = list(per_video)
        out[s] = {ids[j]: per_video[ids[j]] for j in rng.permutation(len(ids))}
    return out


# --------------------------------------------------------------------------- Student t quantiles


@pytest.mark.parametrize("ci, df, expected", [
    (0.95, 1, 12.7062047), (0.95, 2, 4.30265273), (0.95, 4, 2.77644511), (0.95, 30, 2.04227246),
    (0.99, 3, 5.84090931), (0.95, 1e6, 1.95996640),
])
def test_t_quantile_matches_tables(ci, df, expected):
    assert report._t_critical(ci, df) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("tail", [0.5, 0.05, 0.05 / 22, 1e-6])
def test_t_quantile_matches_closed_forms(tail):
    # df = 1 is Cauchy; df = 2 has P(|T| > t) = 1 - t / sqrt(2 + t^2)
    assert report._t_critical(1 - tail, 1) == pytest.approx(1 / math.tan(math.pi * tail / 2), rel=1e-9)
    df2 = math.sqrt(2 * (1 - tail) ** 2 / (1 - (1 - tail) ** 2))
    assert report._t_critical(1 - tail, 2) == pytest.approx(df2, rel=1e-9)
    assert report._t_critical(1 - tail, 2.5) < report._t_critical(1 - tail, 2)  # fractional df, monotone


# --------------------------------------------------------------------------- align


def test_align_matches_values_by_id_and_sorts_ids():
    rows = {"A": {0: {"b": 1.0, "a": 0.0, "c": 1.0}, 1: {"c": 0.0, "a": 1.0, "b": 1.0}},
            "B": {7: {"a": 0.5, "c": 0.25, "b": 1.0}}}
    video_ids, scores, dropped = align(rows)
    assert video_ids == ["a", "b", "c"] and dropped == 0
    np.testing.assert_array_equal(scores["A"], [[0, 1, 1], [1, 1, 0]])  # seed order kept, columns by id
    np.testing.assert_array_equal(scores["B"], [[0.5, 1.0, 0.25]])


def test_align_keeps_the_common_videos_and_counts_the_dropped():
    rows = {"A": {0: {"a": 1, "b": 1, "c": 0}, 1: {"a": 1, "b": 0, "c": 0, "d": 1}}, "B": {0: {"b": 0, "c": 1, "e": 1}}}
    aligned = align(rows)
    assert aligned.video_ids == ["b", "c"]
    assert aligned.dropped == 3  # a, d, e: seen somewhere, not everywhere
    assert aligned.scores["A"].shape == (2, 2) and aligned.scores["B"].shape == (1, 2)


def test_positional_vectors_are_refused():
    with pytest.raises(ValueError, match="matched by id"):
        align({"A": {0: [1, 0, 1]}, "B": {0: {"a": 1}}})
    with pytest.raises(ValueError, match="matched by id"):
        align({"A": {0: np.array([1, 0, 1])}})


def test_pairing_follows_ids_not_insertion_order():
    # B holds exactly A's values, inserted in reverse order: matched by id every per-video difference is 0
    # (by position it would be A against its own reverse, a large per-video scatter).
    a = row(0.6, offsets=(0.0,))
    b = {0: dict(reversed(list(a[0].items())))}
    _, scores, _ = align({"A": a, "B": b})
    r = gap_interval([scores["A"]], [scores["B"]])
    assert r["diff"] == 0.0 and r["se_videos"] == 0.0


def test_shuffling_one_rows_id_order_changes_no_result():
    scores = {"R(2+1)D": row(0.80), "R3D": row(0.70, order_seed=1), "R2D": row(0.55)}
    claims = [Claim("best", "", "a_gt_each", "R(2+1)D", ["R3D", "R2D"]),
              Claim("3D above 2D", "", "group_gt_group", ["R(2+1)D", "R3D"], ["R2D"]),
              Claim("peak", "", "peak_inside", ["R2D", "R(2+1)D", "R3D"])]
    for claim in claims:
        before = evaluate_claim(claim, scores)
        after = evaluate_claim(claim, {**scores, "R3D": shuffled(scores["R3D"], seed=1)})
        assert before == after


@pytest.mark.parametrize("rows, message", [
    ({}, "at least one row"),
    ({"A": {}}, "no seeds"),
    ({"A": {0: {"a": 1}}, "B": {0: {"b": 1}}}, "no test video id is common"),
    ({"A": {0: {"a": 1.5}}}, r"row 'A', seed 0, video 'a'.*not in \[0, 1\]"),
    ({"A": {0: {"a": 1}, 3: {"a": float("nan")}}}, r"seed 3.*not in \[0, 1\]"),
    ({"A": {0: {"a": 1, 2: 1}}}, "comparable"),
])
def test_align_errors_name_the_problem(rows, message):
    with pytest.raises(ValueError, match=message):
        align(rows)


# --------------------------------------------------------------------------- gap_interval and seed_gap


def test_identical_rows_give_zero_difference_and_an_interval_covering_zero():
    a = array(0.7)
    r = gap_interval([a], [a.copy()])
    assert r["diff"] == 0.0 and r["ci_low"] < 0 < r["ci_high"]  # the two rows' seed spreads still count
    assert r["se_videos"] == 0.0 and r["se_seeds"] > 0
    assert verdict(r["ci_low"], r["ci_high"]) == "inconclusive"
    assert (r["n"], r["seeds"], r["ci"], r["seed_spread"]) == (N_VIDEOS, {"a": [3], "b": [3]}, 0.95, True)


def test_always_right_against_always_wrong_is_100_points():
    r = gap_interval([np.ones((3, 40))], [np.zeros((2, 40))])
    assert (r["diff"], r["ci_low"], r["ci_high"], r["half_width"]) == (100.0, 100.0, 100.0, 0.0)
    assert (r["acc_a"], r["acc_b"]) == (100.0, 0.0)
    assert verdict(r["ci_low"], r["ci_high"]) == "reproduced"


def test_interval_adds_the_seed_spread_to_the_video_sampling():
    steady, spread = array(0.6, offsets=(0, 0, 0)), array(0.6, offsets=(-0.05, 0.0, 0.05))
    base = array(0.5, offsets=(0, 0, 0))
    calm, noisy = gap_interval([steady], [base]), gap_interval([spread], [base])
    assert calm["diff"] == pytest.approx(noisy["diff"]) == pytest.approx(10.0)
    assert calm["se_seeds"] == 0.0 and noisy["se_seeds"] == pytest.approx(100 * 0.05 / math.sqrt(3), rel=1e-6)
    assert noisy["se"] == pytest.approx(math.hypot(noisy["se_videos"], noisy["se_seeds"]))
    assert noisy["half_width"] > calm["half_width"]
    assert calm["df"] == pytest.approx(N_VIDEOS - 1)  # only the video part is estimated
    assert noisy["df"] < 10  # a 3-seed spread has few degrees of freedom, and dominates here


def test_single_seed_rows_are_flagged_never_silent():
    r = gap_interval([array(0.7)[:1]], [array(0.5)])
    assert r["seed_spread"] is False and "single seed" in r["note"] and r["seeds"] == {"a": [1], "b": [3]}
    both = gap_interval([array(0.7)[:1]], [array(0.5)[1:2]])
    assert both["seed_spread"] is False and "test-video sampling only" in both["note"]
    assert both["se_seeds"] == 0.0 and both["df"] == pytest.approx(N_VIDEOS - 1)


def test_group_side_is_the_mean_of_its_rows():
    r = gap_interval([array(0.7), array(0.8)], [array(0.5)])
    assert r["diff"] == pytest.approx(25.0) and r["acc_a"] == pytest.approx(75.0)
    one = gap_interval([array(0.7)], [array(0.5)])
    # a group's seed spread is divided by its size: two rows' spreads at 1/4 each < one row's
    assert r["se_seeds"] < one["se_seeds"] * 1.5


def test_gap_interval_rejects_invalid_input():
    with pytest.raises(ValueError, match="list of row arrays"):
        gap_interval(array(0.5), [array(0.5)])
    with pytest.raises(ValueError, match=r"x\[None, :\]"):
        gap_interval([correct(0.5)], [array(0.5)])
    with pytest.raises(ValueError, match="same videos"):
        gap_interval([array(0.5)], [array(0.5)[:, :-1]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gap_interval([array(0.5) * 2], [array(0.5)])
    with pytest.raises(ValueError, match="at least one row"):
        gap_interval([], [array(0.5)])
    with pytest.raises(ValueError, match="ci"):
        gap_interval([array(0.5)], [array(0.5)], ci=95)
    with pytest.raises(ValueError, match="at least 2 shared test videos"):
        gap_interval([np.ones((2, 1))], [np.zeros((2, 1))])


def test_seed_gap_is_welch_over_seeds():
    r = seed_gap([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])
    se = 100 * math.sqrt(0.01 / 3 + 0.01 / 3)
    assert r["diff"] == pytest.approx(10.0) and r["se"] == pytest.approx(se) and r["df"] == pytest.approx(4.0)
    assert r["half_width"] == pytest.approx(2.7764451 * se)
    assert verdict(r["ci_low"], r["ci_high"]) == "inconclusive"
    assert r["seeds"] == {"a": 3, "b": 3}
    clear = seed_gap([0.70, 0.71, 0.72], [0.50, 0.51, 0.52])
    assert verdict(clear["ci_low"], clear["ci_high"]) == "reproduced"
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_gap([0.5], [0.4, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        seed_gap([50, 60], [40, 50])


def test_verdict_words():
    assert verdict(0.5, 2.0) == "reproduced" and verdict(-2.0, -0.5) == "contradicted"
    assert verdict(-1.0, 1.0) == verdict(0.0, 0.0) == "inconclusive"
    assert verdict(-2.0, -0.5, expected_sign=-1) == "reproduced"


def test_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="expected_sign"):
        verdict(1.0, 2.0, expected_sign=0)
    with pytest.raises(ValueError, match="not a confidence interval"):
        verdict(2.0, 1.0)


# --------------------------------------------------------------------------- claims


@pytest.fixture
def scores() -> dict[str, dict]:
    """Tran-2018-like rows on 500 shared test videos, 3 seeds each."""
    return {
        "R2D": row(0.50),
        "f-R2D": row(0.52),
        "R3D": row(0.70),
        "MC3": row(0.72),
        "rMC3": row(0.55),
        "R(2+1)D": row(0.90),
    }


def headline_is_consistent(r: dict) -> bool:
    """The shown interval gives the claim's verdict word back."""
    return verdict(r["ci_low"], r["ci_high"]) == r["verdict"]


def test_a_gt_b_claim(scores):
    claim = Claim("MC above rMC", "MCx is better than rMCx", "a_gt_b", "MC3", "rMC3")
    r = evaluate_claim(claim, scores)
    assert r["verdict"] == "reproduced" and r["diff"] == pytest.approx(17.0)
    assert r["ci_low"] > 0 and r["text"] == "MCx is better than rMCx" and r["metric"] == "video@1"
    assert len(r["comparisons"]) == 1 and r["vs"] == "rMC3"
    assert r["seeds"] == {"MC3": 3, "rMC3": 3} and r["seed_spread"] and r["n"] == N_VIDEOS
    assert r["dropped_videos"] == 0 and r["ci"] == 0.95 and r["alpha"] == 0.05
    reverse = evaluate_claim(Claim("rMC above MC", "", "a_gt_b", "rMC3", "MC3"), scores)
    assert reverse["verdict"] == "contradicted" and headline_is_consistent(reverse)


def test_a_gt_each_all_reproduced_reports_the_runner_up(scores):
    claim = Claim("R(2+1)D best", "R(2+1)D outperforms all", "a_gt_each", "R(2+1)D", ["R2D", "R3D", "MC3"])
    r = evaluate_claim(claim, scores)
    assert [c["verdict"] for c in r["comparisons"]] == ["reproduced"] * 3
    assert r["verdict"] == "reproduced" and headline_is_consistent(r)
    assert r["vs"] == "MC3" and r["diff"] == pytest.approx(18.0) and r["ci"] == 0.95  # the closest competitor
    assert [c["contra"]["ci"] for c in r["comparisons"]] == [pytest.approx(1 - 0.05 / 3)] * 3


def test_a_gt_each_contradicted_shows_the_bonferroni_interval(scores):
    claim = Claim("R3D best", "", "a_gt_each", "R3D", ["R2D", "R(2+1)D", "MC3"])
    r = evaluate_claim(claim, scores)
    assert [c["verdict"] for c in r["comparisons"]] == ["reproduced", "contradicted", "inconclusive"]
    assert r["verdict"] == "contradicted" and r["vs"] == "R(2+1)D" and r["ci_high"] < 0
    assert r["ci"] == pytest.approx(1 - 0.05 / 3) and headline_is_consistent(r)


def _disagreeing(n_only_a: int, n_only_b: int, both: int = 200, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Two 0/1 rows (3 identical seeds, so no seed spread) that disagree on the given numbers of videos."""
    a, b = np.zeros(n), np.zeros(n)
    a[:both] = b[:both] = 1
    a[both:both + n_only_a] = 1
    b[both + n_only_a:both + n_only_a + n_only_b] = 1
    return np.tile(a, (3, 1)), np.tile(b, (3, 1))


def test_a_gt_each_reversal_needs_the_bonferroni_level_to_contradict():
    # MC3 is 3.25 points below "twin": beyond the 95% interval (z ~ 2.15) but inside the 98.3% one (k = 3).
    mc3, twin = _disagreeing(12, 25)
    rows = {"MC3": mc3, "twin": twin, "R2D": np.zeros_like(mc3), "R3D": np.zeros_like(mc3)}
    single = evaluate_aligned(Claim("x", "", "a_gt_b", "MC3", "twin"), rows)
    assert single["verdict"] == "contradicted" and single["diff"] == pytest.approx(-3.25)
    r = evaluate_aligned(Claim("MC3 best", "", "a_gt_each", "MC3", ["R2D", "twin", "R3D"]), rows)
    assert [c["verdict"] for c in r["comparisons"]] == ["reproduced", "inconclusive", "reproduced"]
    assert r["comparisons"][1]["ci_high"] < 0 < r["comparisons"][1]["contra"]["ci_high"]
    assert r["verdict"] == "inconclusive" and r["vs"] == "twin" and headline_is_consistent(r)
    assert r["ci"] == pytest.approx(1 - 0.05 / 3)


def test_group_gt_group_compares_group_means(scores):
    claim = Claim("3D/MC above 2D", "3D convolutions help", "group_gt_group", ["R3D", "MC3"], ["R2D", "f-R2D"])
    r = evaluate_claim(claim, scores)
    assert r["diff"] == pytest.approx((70 + 72) / 2 - (50 + 52) / 2)
    assert r["verdict"] == "reproduced" and r["vs"] == "R2D / f-R2D"
    # A group of one is the plain pairwise comparison.
    one = evaluate_claim(Claim("x", "", "group_gt_group", ["MC3"], ["rMC3"]), scores)
    pair = evaluate_claim(Claim("x", "", "a_gt_b", "MC3", "rMC3"), scores)
    assert (one["diff"], one["ci_low"], one["ci_high"]) == (pair["diff"], pair["ci_low"], pair["ci_high"])


SWEEP = ["8f", "16f", "24f", "32f", "48f"]


@pytest.mark.parametrize("accuracies, expected, peak", [
    ((0.50, 0.62, 0.70, 0.64, 0.52), "reproduced", "24f"),
    ((0.50, 0.55, 0.60, 0.65, 0.80), "contradicted", "48f"),
    ((0.60, 0.60, 0.60, 0.60, 0.60), "inconclusive", "8f"),
    ((0.50, 0.62, 0.70, 0.64, 0.70), "inconclusive", "24f"),  # ties the long end: not resolved
])
def test_peak_inside(accuracies, expected, peak):
    scores = {name: row(acc) for name, acc in zip(SWEEP, accuracies)}
    r = evaluate_claim(Claim("peak", "video@1 peaks inside", "peak_inside", SWEEP), scores)
    assert r["verdict"] == expected and r["peak"] == peak and headline_is_consistent(r)
    assert len(r["comparisons"]) == 2 * 3  # each interior length against both ends
    assert r["vs"] in ("8f", "48f") and r["row"] in ("16f", "24f", "32f")
    if expected == "reproduced":
        # the weaker of 24f's two margins, at the Bonferroni level over m = 3 interior rows
        assert (r["row"], r["vs"], r["ci"]) == ("24f", "48f", pytest.approx(1 - 0.05 / 3))
    if expected == "contradicted":
        assert (r["row"], r["vs"], r["ci"]) == ("32f", "48f", pytest.approx(1 - 0.05 / 2))


def test_clip_metric_takes_fractions_and_video_metric_refuses_them():
    fractions = {"A": {0: {"a": 0.8, "b": 0.6}, 1: {"a": 0.7, "b": 0.9}},
                 "B": {0: {"a": 0.2, "b": 0.3}, 1: {"a": 0.1, "b": 0.4}}}
    r = evaluate_claim(Claim("x", "", "a_gt_b", "A", "B", metric="clip@1"), fractions)
    assert r["metric"] == "clip@1" and r["diff"] == pytest.approx(50.0)
    with pytest.raises(ValueError, match="clip@1"):
        evaluate_claim(Claim("x", "", "a_gt_b", "A", "B"), fractions)


def test_single_seed_rows_are_flagged_in_the_claim(scores):
    scores = {**scores, "MC3": {0: scores["MC3"][0]}, "rMC3": {5: scores["rMC3"][1]}}
    one = evaluate_claim(Claim("x", "", "a_gt_b", "MC3", "R3D"), scores)
    assert one["seed_spread"] is False and one["note"].startswith("MC3 had a single seed")
    assert "not the run-to-run spread of MC3 (a single seed)" in verdict_summary([one])
    both = evaluate_claim(Claim("x", "", "a_gt_b", "MC3", "rMC3"), scores)
    assert both["seeds"] == {"MC3": 1, "rMC3": 1} and "test-video sampling only" in both["note"]
    assert "covering test-video sampling only (500 test videos)" in verdict_summary([both])


def test_claim_uses_only_its_rows_and_records_dropped_videos(scores):
    partial = {s: {v: x for v, x in per_video.items() if v != "v0003"} for s, per_video in scores["rMC3"].items()}
    unrelated = {0: {"v0000": 1.0}}  # would leave one common video if it were aligned too
    r = evaluate_claim(Claim("x", "", "a_gt_b", "MC3", "rMC3"), {**scores, "rMC3": partial, "other": unrelated})
    assert r["n"] == N_VIDEOS - 1 and r["dropped_videos"] == 1


@pytest.mark.parametrize("args, message", [
    (("a_beats_b", "R2D", "R3D"), "unknown kind"),
    (("group_gt_group", ["R2D", "R3D"], ["R3D"]), "both sides"),
    (("a_gt_b", ["R2D"], "R3D"), "must be a row name"),
    (("a_gt_b", "R2D", ["R3D", "MC3"]), "one row name in `b`"),
    (("a_gt_each", "R2D", ["R3D", "R3D"]), "twice"),
    (("peak_inside", ["8f", "16f", "32f"], "48f"), "`b` must be empty"),
    (("peak_inside", ["8f", "48f"]), "at least 3 rows"),
])
def test_claim_errors_name_the_problem(args, message):
    with pytest.raises(ValueError, match=message):
        Claim("x", "", *args)


def test_claim_metric_and_missing_rows_are_checked(scores):
    with pytest.raises(ValueError, match="unknown metric"):
        Claim("x", "", "a_gt_b", "R2D", "R3D", metric="top5")
    with pytest.raises(KeyError, match="R4D"):
        evaluate_claim(Claim("x", "", "a_gt_b", "R4D", "R3D"), scores)


def test_claims_table_and_summary(scores):
    claims = [
        Claim("R(2+1)D best", "R(2+1)D outperforms all", "a_gt_each", "R(2+1)D", ["R3D", "MC3"]),
        Claim("MC above rMC", "MCx beats rMCx", "a_gt_b", "MC3", "rMC3"),
        Claim("R2D above its copy", "(a claim no data can support)", "a_gt_b", "R2D", "R2D-copy"),
    ]
    scores = {**scores, "R2D-copy": scores["R2D"]}
    results = [evaluate_claim(c, scores) for c in claims]
    table = claims_table(results)
    assert list(table.columns) == ["claim", "paper says", "ours", "verdict"]
    assert list(table["verdict"]) == ["reproduced", "reproduced", "inconclusive"]
    assert table["ours"][0].startswith("+18.0 [+") and table["ours"][0].endswith(") vs MC3")
    assert table["ours"][2].startswith("+0.0 [-") and "pts (±" in table["ours"][2]
    lines = verdict_summary(results).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("- **reproduced** — R(2+1)D best: +18.0")
    assert "3 seeds per row" in lines[0] and f"{N_VIDEOS} test videos" in lines[0] and "95% CI" in lines[0]
    assert "seeds" in lines[1] and "test-video sampling" in lines[1]
    assert lines[2].startswith("- **inconclusive** — R2D above its copy") and "cannot resolve" in lines[2]


def test_format_gap_shows_the_half_width_and_the_comparison():
    r = {"diff": 3.14, "ci_low": 0.81, "ci_high": 5.47, "half_width": 2.33}
    assert format_gap(r) == "+3.1 [+0.8, +5.5] pts (±2.3)"
    assert format_gap({**r, "kind": "a_gt_each", "vs": "R3D"}) == "+3.1 [+0.8, +5.5] pts (±2.3) vs R3D"
    assert format_gap({**r, "kind": "peak_inside", "row": "16f", "vs": "48f"}).endswith(" 16f vs 48f")


def test_peak_summary_names_the_peak_and_bonferroni_level():
    scores = {name: row(acc) for name, acc in zip(SWEEP, (0.50, 0.62, 0.70, 0.64, 0.52))}
    r = evaluate_claim(Claim("peak", "peaks inside", "peak_inside", SWEEP), scores)
    line = verdict_summary([r])
    assert "observed peak at 24f" in line and "98.3% CI" in line and " 24f vs 48f" in line


def test_results_are_json_serialisable(scores):
    import json

    r = evaluate_claim(Claim("R(2+1)D best", "", "a_gt_each", "R(2+1)D", ["R3D", "MC3"]), scores)
    assert json.loads(json.dumps(r, default=float))["verdict"] == "reproduced"


def test_report_has_exactly_the_verdict_vocabulary():
    words = {report.REPRODUCED, report.INCONCLUSIVE, report.CONTRADICTED}
    assert words == {"reproduced", "inconclusive", "contradicted"}
    assert not hasattr(report, "paired_bootstrap") and not hasattr(report, "proportion_gap")


# --------------------------------------------------------------------------- paper-vs-ours tables


ROWS = [
    {"name": "R3D", "paper_clip@1": 49.4, "ours_clip@1": 40.1, "paper_video@1": 57.9, "ours_video@1": 48.0},
    {"name": "R(2+1)D", "paper_clip@1": 52.8, "ours_clip@1": 45.3, "paper_video@1": 64.8},  # ours video@1 missing
    {"name": "C3D", "paper_video@1": 59.5, "reported": True},
]


def test_compare_table_columns_and_deltas():
    df = compare_table(ROWS, ["clip@1", "video@1"])
    assert list(df.columns) == [
        "clip@1 paper", "clip@1 ours", "clip@1 delta",
        "video@1 paper", "video@1 ours", "video@1 delta",
        "note",
    ]
    assert list(df.index) == ["R3D", "R(2+1)D", "C3D"]
    assert df.loc["R3D", "clip@1 delta"] == pytest.approx(40.1 - 49.4)
    assert df.loc["R(2+1)D", "clip@1 delta"] == pytest.approx(45.3 - 52.8)
    assert math.isnan(df.loc["R(2+1)D", "video@1 ours"]) and math.isnan(df.loc["R(2+1)D", "video@1 delta"])
    assert math.isnan(df.loc["C3D", "clip@1 paper"])
    assert list(df["note"]) == ["", "", REPORTED_ONLY]


def test_compare_table_rejects_inconsistent_rows():
    with pytest.raises(ValueError, match="typo"):
        compare_table(ROWS, ["clip@5"])
    with pytest.raises(ValueError, match="reported"):
        compare_table([{"name": "iDT", "paper_clip@1": 1.0, "ours_clip@1": 2.0, "reported": True}], ["clip@1"])
    with pytest.raises(ValueError, match="duplicate"):
        compare_table([ROWS[0], ROWS[0]], ["clip@1"])


def test_markdown_shape_and_na():
    df = compare_table(ROWS, ["clip@1", "video@1"])
    lines = to_markdown(df).splitlines()
    assert len(lines) == 2 + len(df)  # header, separator, one line per row
    assert lines[0] == ("| row | clip@1 paper | clip@1 ours | clip@1 delta | video@1 paper | video@1 ours "
                        "| video@1 delta | note |")
    assert lines[1] == "|---|---:|---:|---:|---:|---:|---:|---|"
    assert lines[2] == "| R3D | 49.4 | 40.1 | -9.3 | 57.9 | 48.0 | -9.9 |  |"
    assert lines[3] == "| R(2+1)D | 52.8 | 45.3 | -7.5 | 64.8 | n/a | n/a |  |"
    assert lines[4] == f"| C3D | n/a | n/a | n/a | 59.5 | n/a | n/a | {REPORTED_ONLY} |"
    assert all(line.count("|") == lines[0].count("|") for line in lines)


def test_markdown_escapes_pipes_and_formats_ints():
    df = pd.DataFrame({"a|b": ["x|y"], "n": [600]}, index=pd.Index(["r"], name="row"))
    assert to_markdown(df, index=False).splitlines() == ["| a\\|b | n |", "|---|---:|", "| x\\|y | 600 |"]


def test_write_table_writes_csv_and_markdown(tmp_path):
    df = compare_table(ROWS, ["clip@1", "video@1"])
    csv_path, md_path = write_table(df, tmp_path / "tables" / "tran2018_table2")
    assert csv_path.name == "tran2018_table2.csv" and md_path.name == "tran2018_table2.md"
    assert md_path.read_text() == to_markdown(df)
    back = pd.read_csv(csv_path, index_col="row", keep_default_na=False, na_values=["n/a"])
    pd.testing.assert_frame_equal(back, df)


def test_paper_vs_ours_bars_makes_a_figure_without_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = paper_vs_ours_bars(compare_table(ROWS, ["clip@1", "video@1"]), "video@1")
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["R3D", "R(2+1)D", "C3D"]
    assert len(ax.patches) == 4  # 3 paper bars + 1 of ours; the 2 missing get an n/a label
    assert sum(t.get_text() == "n/a" for t in ax.texts) == 2


def test_rows_carry_notes_and_untested_claims_say_why():
    df = report.compare_table([{"name": "ours", "paper_top1": 72.0, "ours_top1": 30.0, "note": "split 1 only"},
                               {"name": "I3D", "paper_top1": 71.1, "reported": True}], ["top1"])
    assert list(df["note"]) == ["split 1 only", report.REPORTED_ONLY]
    skipped = report.not_run("32 frames above 8", "RGB 73.0 vs 72.0", "not trained: s1m_r2plus1d_34_f32")
    table = report.claims_table([skipped])
    assert table.loc[0, "verdict"] == report.NOT_RUN and "s1m_r2plus1d_34_f32" in table.loc[0, "ours"]
    assert report.verdict_summary([skipped]).startswith(f"- **{report.NOT_RUN}** — 32 frames above 8: not trained")
