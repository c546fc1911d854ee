"""Paired bootstrap, verdict words, claims, paper-vs-ours tables and their markdown/csv output.

Correctness vectors are synthetic: a model "with accuracy p" is right on a fixed set of videos
chosen by a seeded generator, so every expected verdict is far from the decision boundary.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from replicate.report import (
    REPORTED_ONLY,
    Claim,
    claims_table,
    compare_table,
    evaluate_claim,
    paired_bootstrap,
    paper_vs_ours_bars,
    to_markdown,
    verdict,
    verdict_summary,
    write_table,
)

N_BOOT = 500  # enough for stable 95% intervals on these clear-cut cases, and fast


def model(accuracy: float, n: int = 500, seed: int = 0) -> np.ndarray:
    """0/1 correctness on ``n`` videos with exactly ``round(accuracy * n)`` right, at seeded places."""
    out = np.zeros(n, dtype=bool)
    out[np.random.default_rng(seed).permutation(n)[: round(accuracy * n)]] = True
    return out


# --------------------------------------------------------------------------- bootstrap


def test_identical_models_give_zero_difference_and_zero_interval():
    a = model(0.7)
    r = paired_bootstrap(a, a.copy(), n_boot=N_BOOT)
    assert (r["diff"], r["ci_low"], r["ci_high"]) == (0.0, 0.0, 0.0)
    assert r["n"] == 500
    assert verdict(r["ci_low"], r["ci_high"]) == "inconclusive"


def test_clearly_better_model_is_reproduced():
    r = paired_bootstrap(model(0.9, seed=1), model(0.5, seed=2), n_boot=N_BOOT)
    assert r["diff"] == pytest.approx(40.0)  # percentage points
    assert (r["acc_a"], r["acc_b"]) == (pytest.approx(90.0), pytest.approx(50.0))
    assert 0 < r["ci_low"] < 40 < r["ci_high"]
    assert verdict(r["ci_low"], r["ci_high"], expected_sign=+1) == "reproduced"


def test_equal_accuracy_different_errors_is_inconclusive():
    # Same accuracy, disjoint errors: the videos disagree a lot, so the interval is wide around 0.
    a = np.r_[np.ones(250), np.zeros(250)]
    b = a[::-1].copy()
    r = paired_bootstrap(a, b, n_boot=N_BOOT)
    assert r["diff"] == 0.0
    assert r["ci_low"] < 0 < r["ci_high"]
    assert verdict(r["ci_low"], r["ci_high"]) == "inconclusive"


def test_reversed_claim_is_contradicted():
    r = paired_bootstrap(model(0.5, seed=1), model(0.9, seed=2), n_boot=N_BOOT)
    assert r["ci_high"] < 0
    assert verdict(r["ci_low"], r["ci_high"], expected_sign=+1) == "contradicted"
    # The same interval for a paper that claimed a is *below* b.
    assert verdict(r["ci_low"], r["ci_high"], expected_sign=-1) == "reproduced"


def test_bootstrap_is_deterministic_for_a_seed():
    a, b = model(0.62, seed=3), model(0.58, seed=4)
    assert paired_bootstrap(a, b, n_boot=N_BOOT, seed=7) == paired_bootstrap(a, b, n_boot=N_BOOT, seed=7)
    assert paired_bootstrap(a, b, n_boot=N_BOOT, seed=7) != paired_bootstrap(a, b, n_boot=N_BOOT, seed=8)


def test_interval_narrows_with_more_videos():
    def width(n: int) -> float:
        r = paired_bootstrap(model(0.7, n, seed=5), model(0.6, n, seed=6), n_boot=N_BOOT)
        return r["ci_high"] - r["ci_low"]

    assert width(2000) < 0.6 * width(200)  # ~ 1/sqrt(10) in theory


def test_pairing_uses_one_resample_for_both_models():
    # b is a with 20 extra errors: an unpaired interval would be ~+-8 points wide; paired, the
    # only noise is which of the 20 disagreeing videos are drawn, so the interval stays above 0.
    a = model(0.6, n=500, seed=9)
    b = a.copy()
    b[np.flatnonzero(a)[:20]] = False
    r = paired_bootstrap(a, b, n_boot=N_BOOT)
    assert r["diff"] == pytest.approx(4.0)
    assert r["ci_low"] > 0 and r["ci_high"] - r["ci_low"] < 5


def test_bootstrap_rejects_unpaired_or_invalid_input():
    with pytest.raises(ValueError, match="same test videos"):
        paired_bootstrap(model(0.5, 100), model(0.5, 90))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        paired_bootstrap([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="ci"):
        paired_bootstrap([0, 1], [1, 0], ci=95)


def test_verdict_rejects_bad_sign():
    with pytest.raises(ValueError, match="expected_sign"):
        verdict(1.0, 2.0, expected_sign=0)


# --------------------------------------------------------------------------- claims


@pytest.fixture
def correct() -> dict[str, np.ndarray]:
    """Tran-2018-like rows on 500 shared test videos."""
    return {
        "R2D": model(0.50, seed=1),
        "f-R2D": model(0.52, seed=2),
        "R3D": model(0.70, seed=3),
        "MC3": model(0.72, seed=4),
        "rMC3": model(0.55, seed=5),
        "R(2+1)D": model(0.90, seed=6),
    }


def test_a_gt_b_claim(correct):
    claim = Claim("MC above rMC", "MCx is better than rMCx", "a_gt_b", "MC3", "rMC3")
    r = evaluate_claim(claim, correct, n_boot=N_BOOT)
    assert r["verdict"] == "reproduced"
    assert r["diff"] == pytest.approx(17.0)
    assert r["ci_low"] > 0 and r["text"] == "MCx is better than rMCx"
    assert len(r["comparisons"]) == 1 and r["vs"] == "rMC3"
    reverse = evaluate_claim(Claim("rMC above MC", "", "a_gt_b", "rMC3", "MC3"), correct, n_boot=N_BOOT)
    assert reverse["verdict"] == "contradicted"


def test_a_gt_each_all_reproduced_reports_the_runner_up(correct):
    claim = Claim("R(2+1)D best", "R(2+1)D outperforms all", "a_gt_each", "R(2+1)D", ["R2D", "R3D", "MC3"])
    r = evaluate_claim(claim, correct, n_boot=N_BOOT)
    assert [c["verdict"] for c in r["comparisons"]] == ["reproduced"] * 3
    assert r["verdict"] == "reproduced"
    assert r["vs"] == "MC3" and r["diff"] == pytest.approx(18.0)  # the closest competitor


def test_a_gt_each_one_unresolved_comparison_makes_it_inconclusive(correct):
    correct = {**correct, "MC3-twin": np.r_[correct["MC3"][250:], correct["MC3"][:250]]}
    claim = Claim("MC3 best", "", "a_gt_each", "MC3", ["R2D", "MC3-twin"])
    r = evaluate_claim(claim, correct, n_boot=N_BOOT)
    assert [c["verdict"] for c in r["comparisons"]] == ["reproduced", "inconclusive"]
    assert r["verdict"] == "inconclusive" and r["vs"] == "MC3-twin"
    assert r["ci_low"] < 0 < r["ci_high"]  # the headline interval is the one behind the verdict


def test_a_gt_each_any_contradicted_comparison_contradicts(correct):
    claim = Claim("R3D best", "", "a_gt_each", "R3D", ["R2D", "R(2+1)D", "MC3"])
    r = evaluate_claim(claim, correct, n_boot=N_BOOT)
    assert [c["verdict"] for c in r["comparisons"]] == ["reproduced", "contradicted", "inconclusive"]
    assert r["verdict"] == "contradicted" and r["vs"] == "R(2+1)D" and r["ci_high"] < 0


def test_group_gt_group_compares_per_video_group_means(correct):
    claim = Claim("3D/MC above 2D", "3D convolutions help", "group_gt_group", ["R3D", "MC3"], ["R2D", "f-R2D"])
    r = evaluate_claim(claim, correct, n_boot=N_BOOT)
    assert r["diff"] == pytest.approx((70 + 72) / 2 - (50 + 52) / 2)
    assert r["verdict"] == "reproduced" and r["vs"] == "R2D / f-R2D"
    # A group of one is the plain pairwise comparison, on the same resamples.
    one = evaluate_claim(Claim("x", "", "group_gt_group", ["MC3"], ["rMC3"]), correct, n_boot=N_BOOT)
    pair = evaluate_claim(Claim("x", "", "a_gt_b", "MC3", "rMC3"), correct, n_boot=N_BOOT)
    assert (one["diff"], one["ci_low"], one["ci_high"]) == (pair["diff"], pair["ci_low"], pair["ci_high"])


def test_claim_errors_name_the_problem(correct):
    with pytest.raises(ValueError, match="unknown kind"):
        Claim("x", "", "a_beats_b", "R2D", "R3D")
    with pytest.raises(ValueError, match="both sides"):
        Claim("x", "", "group_gt_group", ["R2D", "R3D"], ["R3D"])
    with pytest.raises(KeyError, match="R4D"):
        evaluate_claim(Claim("x", "", "a_gt_b", "R4D", "R3D"), correct, n_boot=10)


def test_claims_table_and_summary(correct):
    claims = [
        Claim("R(2+1)D best", "R(2+1)D outperforms all", "a_gt_each", "R(2+1)D", ["R3D", "MC3"]),
        Claim("MC above rMC", "MCx beats rMCx", "a_gt_b", "MC3", "rMC3"),
        Claim("R2D above its copy", "(a claim no data can support)", "a_gt_b", "R2D", "R2D-copy"),
    ]
    correct = {**correct, "R2D-copy": correct["R2D"]}
    results = [evaluate_claim(c, correct, n_boot=N_BOOT) for c in claims]
    table = claims_table(results)
    assert list(table.columns) == ["claim", "paper says", "ours", "verdict"]
    assert list(table["verdict"]) == ["reproduced", "reproduced", "inconclusive"]
    assert table["ours"][0].startswith("+18.0 [+") and table["ours"][0].endswith("pts vs MC3")
    assert table["ours"][2] == "+0.0 [+0.0, +0.0] pts"
    lines = verdict_summary(results).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("- **reproduced** — R(2+1)D best: +18.0")
    assert lines[2].startswith("- **inconclusive** — R2D above its copy") and "cannot resolve" in lines[2]


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


def test_proportion_gap_interval():
    from replicate.report import proportion_gap
    r = proportion_gap(0.6, 400, 0.5, 400)
    assert r["diff"] == pytest.approx(10.0)
    half = 196 * ((0.24 + 0.25) / 400) ** 0.5  # 1.96 * SE, in points
    assert r["ci_low"] == pytest.approx(10.0 - half, abs=1e-2) and r["ci_high"] == pytest.approx(10.0 + half, abs=1e-2)
    assert verdict(r["ci_low"], r["ci_high"]) == "reproduced"  # ~6.9 pts half-width < 10
    small = proportion_gap(0.6, 40, 0.5, 40)
    assert verdict(small["ci_low"], small["ci_high"]) == "inconclusive"
    with pytest.raises(ValueError, match="sample size"):
        proportion_gap(0.6, 0, 0.5, 10)


def test_rows_carry_notes_and_untested_claims_say_why():
    from replicate import report

    df = report.compare_table([{"name": "ours", "paper_top1": 72.0, "ours_top1": 30.0, "note": "split 1 only"},
                               {"name": "I3D", "paper_top1": 71.1, "reported": True}], ["top1"])
    assert list(df["note"]) == ["split 1 only", report.REPORTED_ONLY]
    skipped = report.not_run("32 frames above 8", "RGB 73.0 vs 72.0", "not trained: s1m_r2plus1d_34_f32")
    table = report.claims_table([skipped])
    assert table.loc[0, "verdict"] == report.NOT_RUN and "s1m_r2plus1d_34_f32" in table.loc[0, "ours"]
    assert report.verdict_summary([skipped]).startswith(f"- **{report.NOT_RUN}** — 32 frames above 8: not trained")
