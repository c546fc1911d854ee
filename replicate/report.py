"""Paper-vs-ours tables, claim verdicts that survive noise, and the figures the notebooks show.

Every reproduced table shows the paper's number, ours and the difference (:func:`compare_table`).
At ``mini`` scale absolute accuracies mean little next to the paper's, so what we test are the
paper's *claims* (orderings and gaps, :class:`Claim`). Each claimed difference gets a paired
bootstrap confidence interval over test videos (:func:`paired_bootstrap`) and one of three
verdict words (DESIGN notes, section 5):

- **reproduced**: the interval excludes 0 and points the way the paper says;
- **contradicted**: the interval excludes 0 and points the other way;
- **inconclusive**: the interval covers 0, so this scale cannot resolve the claim.

Tables are written as csv and markdown (:func:`write_table`); the markdown writer is built in so
the optional ``tabulate`` package is not needed. Missing numbers stay NaN in the frames and are
printed as ``n/a``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

REPRODUCED = "reproduced"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
REPORTED_ONLY = "reported only (not trained)"
#: the verdict of a claim whose rows the profile does not train (``not_run``)
NOT_RUN = "not run at this profile"
NA = "n/a"

ClaimKind = Literal["a_gt_b", "a_gt_each", "group_gt_group"]
CLAIM_KINDS: tuple[str, ...] = ("a_gt_b", "a_gt_each", "group_gt_group")


# --------------------------------------------------------------------------- bootstrap and verdicts


def _correctness(x: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """``x`` as a 1-D float array of per-video correctness in [0, 1], or a clear error."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D per-video correctness vector, got shape {arr.shape}")
    if not np.all((arr >= 0) & (arr <= 1)):
        # NaN fails both comparisons, so it is caught here too.
        raise ValueError(f"{name}: per-video correctness must lie in [0, 1] (0/1, or a group's mean)")
    return arr


def paired_bootstrap(correct_a: Sequence[float] | np.ndarray, correct_b: Sequence[float] | np.ndarray,
                     n_boot: int = 2000, seed: int = 0, ci: float = 0.95) -> dict:
    """Paired bootstrap of the accuracy difference ``a - b`` (percentage points) over test videos.

    ``correct_a`` and ``correct_b`` hold each model's per-video correctness on the *same* test
    videos in the same order (0/1, as ``replicate.evaluate`` returns in ``video_correct``; a
    group's mean correctness in [0, 1] works too). Each bootstrap draw resamples videos with
    replacement and uses that one resample for both models: the two models' errors on a video
    are correlated (hard videos are hard for both), and pairing removes that shared noise from
    the interval. The interval is the percentile interval of the ``n_boot`` resampled
    differences. Deterministic for a given ``seed``.

    Returns ``{"diff", "ci_low", "ci_high", "acc_a", "acc_b", "n", "n_boot", "ci"}``: accuracies
    and the difference in percentage points, ``n`` the number of test videos.
    """
    a = _correctness(correct_a, "correct_a")
    b = _correctness(correct_b, "correct_b")
    if a.shape != b.shape:
        raise ValueError(f"paired bootstrap needs both models scored on the same test videos: "
                         f"got {a.size} and {b.size} videos")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; got {ci}")
    n = a.size
    # Resampling the per-video differences is the same as resampling the videos for both models.
    d = (a - b) * 100.0
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = d[idx].mean(axis=1)
    tail = (1.0 - ci) / 2.0 * 100.0
    low, high = np.percentile(boot, [tail, 100.0 - tail])
    return {
        "diff": float(d.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "acc_a": float(a.mean() * 100.0),
        "acc_b": float(b.mean() * 100.0),
        "n": int(n),
        "n_boot": int(n_boot),
        "ci": float(ci),
    }


def verdict(ci_low: float, ci_high: float, expected_sign: int = +1) -> str:
    """The verdict word for a confidence interval of a difference the paper claims has ``expected_sign``.

    ``"reproduced"`` when the interval excludes 0 on the paper's side, ``"contradicted"`` when it
    excludes 0 on the other side, ``"inconclusive"`` when it covers 0 (including an interval that
    is exactly [0, 0]: no difference was seen).
    """
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign}")
    if math.isnan(ci_low) or math.isnan(ci_high) or ci_low > ci_high:
        raise ValueError(f"not a confidence interval: [{ci_low}, {ci_high}]")
    if ci_low > 0:
        observed = 1
    elif ci_high < 0:
        observed = -1
    else:
        return INCONCLUSIVE
    return REPRODUCED if observed == expected_sign else CONTRADICTED


def proportion_gap(p_a: float, n_a: int, p_b: float, n_b: int, ci: float = 0.95) -> dict:
    """Difference ``a - b`` (percentage points) of two accuracies measured on *different* samples.

    For numbers with no per-item record to bootstrap, such as the training accuracy of an epoch
    (each model saw its own random clips): a normal-approximation interval for two independent
    proportions, ``z * sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b)``. Same keys as
    :func:`paired_bootstrap` (``n`` is the smaller sample).
    """
    for name, p, n in (("a", p_a, n_a), ("b", p_b, n_b)):
        if not 0 <= p <= 1 or n < 1:
            raise ValueError(f"{name}: need an accuracy in [0, 1] and a sample size >= 1, got {p} over {n}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; got {ci}")
    z = NormalDist().inv_cdf(0.5 + ci / 2)
    half = 100.0 * z * math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    diff = 100.0 * (p_a - p_b)
    return {"diff": diff, "ci_low": diff - half, "ci_high": diff + half, "acc_a": 100.0 * p_a, "acc_b": 100.0 * p_b,
            "n": int(min(n_a, n_b)), "ci": float(ci)}


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """A claim of the paper about its rows, tested on per-video correctness.

    ``id`` is a short, unique label shown in tables ("R(2+1)D best"); ``text`` the paper's own
    words. ``kind`` says how ``a`` and ``b`` (row names) are compared; every kind claims that
    ``a`` is above ``b``:

    - ``"a_gt_b"``: row ``a`` above row ``b`` ("MC above rMC");
    - ``"a_gt_each"``: row ``a`` above every row in ``b`` ("R(2+1)D best");
    - ``"group_gt_group"``: the mean of the rows in ``a`` above the mean of the rows in ``b``
      ("3D/MC above 2D").
    """

    id: str
    text: str
    kind: ClaimKind
    a: str | list[str]
    b: str | list[str]

    def __post_init__(self) -> None:
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"claim {self.id!r}: unknown kind {self.kind!r}; use one of {CLAIM_KINDS}")
        if self.kind in ("a_gt_b", "a_gt_each") and not isinstance(self.a, str):
            raise ValueError(f"claim {self.id!r}: kind {self.kind!r} compares one row, so `a` must be a row name")
        if self.kind == "a_gt_b" and not isinstance(self.b, str):
            raise ValueError(f"claim {self.id!r}: kind 'a_gt_b' needs one row name in `b`; "
                             f"use 'a_gt_each' or 'group_gt_group' for several")
        a_rows, b_rows = _rows(self.a), _rows(self.b)
        if not a_rows or not b_rows:
            raise ValueError(f"claim {self.id!r}: `a` and `b` must each name at least one row")
        if set(a_rows) & set(b_rows):
            raise ValueError(f"claim {self.id!r}: rows {sorted(set(a_rows) & set(b_rows))} are on both sides")


def _rows(side: str | Sequence[str]) -> list[str]:
    return [side] if isinstance(side, str) else list(side)


def _side_correctness(rows: list[str], correct: Mapping[str, Sequence[float] | np.ndarray],
                      claim_id: str) -> np.ndarray:
    """Per-video correctness of a row, or of a group as the mean over its rows (still per video, so still paired)."""
    missing = [r for r in rows if r not in correct]
    if missing:
        raise KeyError(f"claim {claim_id!r}: no per-video correctness for rows {missing}; "
                       f"have {sorted(correct)}")
    arrays = [_correctness(correct[r], f"row {r!r}") for r in rows]
    if len({x.size for x in arrays}) > 1:
        raise ValueError(f"claim {claim_id!r}: rows {rows} were scored on different numbers of test videos")
    return np.mean(arrays, axis=0)


def evaluate_claim(claim: Claim, correct: Mapping[str, Sequence[float] | np.ndarray],
                   n_boot: int = 2000, seed: int = 0, ci: float = 0.95) -> dict:
    """Test ``claim`` on per-video correctness ``correct`` (row name -> vector on the shared test videos).

    Returns ``{"id", "text", "kind", "diff", "ci_low", "ci_high", "n", "ci", "verdict", "vs",
    "comparisons"}``. ``comparisons`` lists one :func:`paired_bootstrap` result per comparison
    made (with ``"vs"`` and ``"verdict"`` added); it has one entry except for ``"a_gt_each"``.

    ``"a_gt_each"`` makes one comparison per row in ``b``, all on the same resamples (same
    seed and videos). Its overall verdict is *reproduced* only if every comparison is
    reproduced (the paper claims all of them); *contradicted* if any comparison is
    contradicted (some row is significantly above ``a``, so ``a`` is not the best); otherwise
    *inconclusive*. Its headline gap and interval are those of the comparison that decides the
    overall verdict: among the comparisons with that verdict, the one with the smallest
    observed gap (for a reproduced claim, the margin over the runner-up), named in ``"vs"``.
    """
    if claim.kind == "a_gt_each":
        a = _side_correctness([claim.a], correct, claim.id)
        comparisons = [
            {**paired_bootstrap(a, _side_correctness([row], correct, claim.id), n_boot, seed, ci), "vs": row}
            for row in _rows(claim.b)
        ]
    else:
        a = _side_correctness(_rows(claim.a), correct, claim.id)
        b = _side_correctness(_rows(claim.b), correct, claim.id)
        comparisons = [{**paired_bootstrap(a, b, n_boot, seed, ci), "vs": _side_label(claim.b)}]
    for c in comparisons:
        c["verdict"] = verdict(c["ci_low"], c["ci_high"], +1)
    words = {c["verdict"] for c in comparisons}
    if words == {REPRODUCED}:
        overall = REPRODUCED
    elif CONTRADICTED in words:
        overall = CONTRADICTED
    else:
        overall = INCONCLUSIVE
    headline = min((c for c in comparisons if c["verdict"] == overall), key=lambda c: c["diff"])
    return {
        "id": claim.id,
        "text": claim.text,
        "kind": claim.kind,
        "diff": headline["diff"],
        "ci_low": headline["ci_low"],
        "ci_high": headline["ci_high"],
        "n": headline["n"],
        "ci": headline["ci"],
        "verdict": overall,
        "vs": headline["vs"],
        "comparisons": comparisons,
    }


def _side_label(side: str | Sequence[str]) -> str:
    return " / ".join(_rows(side))


# --------------------------------------------------------------------------- paper-vs-ours tables


def compare_table(rows: list[dict], columns: list[str], name_key: str = "name") -> pd.DataFrame:
    """The paper's number, ours and the difference for each row and metric.

    Each row is a dict with its name under ``name_key`` and, for a metric ``m`` in ``columns``,
    the paper's value under ``"paper_" + m`` and ours under ``"ours_" + m`` (same units, e.g.
    percent as the papers print them). A row with ``"reported": True`` is one the paper only
    quotes from other work (C3D, iDT, ...): we do not train it, it must carry no ``ours_``
    values, and its note says ``"reported only (not trained)"``. Any other row's ``"note"``
    (why it is missing at this profile, which run it shares) goes to the note column.

    Returns a frame indexed by row name with columns ``"<m> paper"``, ``"<m> ours"``,
    ``"<m> delta"`` (ours - paper) per metric in the order given, then ``"note"``. Missing values
    are NaN (a delta with either side missing too); :func:`to_markdown` prints them as ``n/a``.
    """
    if not columns:
        raise ValueError("compare_table needs at least one metric column, e.g. ['clip@1']")
    for m in columns:
        if not any(f"paper_{m}" in r or f"ours_{m}" in r for r in rows):
            raise ValueError(f"metric {m!r}: no row has 'paper_{m}' or 'ours_{m}' (a typo in the metric name?)")
    names = []
    for r in rows:
        if name_key not in r:
            raise ValueError(f"every row needs its name under {name_key!r}; got keys {sorted(r)}")
        names.append(r[name_key])
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate row names {duplicates}: each row of a table must be named once")

    def value(r: dict, key: str) -> float:
        v = r.get(key)
        return math.nan if v is None else float(v)

    records = []
    for r in rows:
        reported = bool(r.get("reported", False))
        ours_keys = [f"ours_{m}" for m in columns if r.get(f"ours_{m}") is not None]
        if reported and ours_keys:
            raise ValueError(f"row {r[name_key]!r} is marked reported (quoted, not trained) but has {ours_keys}")
        rec: dict[str, float | str] = {}
        for m in columns:
            paper, ours = value(r, f"paper_{m}"), value(r, f"ours_{m}")
            rec[f"{m} paper"] = paper
            rec[f"{m} ours"] = ours
            rec[f"{m} delta"] = ours - paper  # NaN propagates when either side is missing
        rec["note"] = REPORTED_ONLY if reported else str(r.get("note") or "")
        records.append(rec)
    return pd.DataFrame(records, index=pd.Index(names, name="row"))


def _format_cell(value: object, floatfmt: str, signed: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), ("+" if signed else "") + floatfmt)
    return str(value)


def to_markdown(df: pd.DataFrame, floatfmt: str = ".1f", index: bool = True) -> str:
    """``df`` as a GitHub markdown table, without the optional ``tabulate`` package.

    Floats use ``floatfmt``; columns whose name ends in ``delta`` show an explicit sign so a
    reader sees the direction at a glance; NaN prints as ``n/a``. Numeric columns are
    right-aligned. ``|`` inside a cell is escaped.
    """
    headers = ([str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    numeric = ([pd.api.types.is_numeric_dtype(df.index)] if index else []) + [
        pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns
    ]
    signed = ([False] if index else []) + [str(c).endswith("delta") for c in df.columns]
    body = []
    for label, row in zip(df.index, df.itertuples(index=False)):
        cells = ([label] if index else []) + list(row)
        body.append([_format_cell(v, floatfmt, s) for v, s in zip(cells, signed)])

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    separator = "|" + "|".join("---:" if num else "---" for num in numeric) + "|"
    return "\n".join([line(headers), separator] + [line(r) for r in body]) + "\n"


def write_table(df: pd.DataFrame, path_stem: str | Path, floatfmt: str = ".1f") -> tuple[Path, Path]:
    """Write ``df`` to ``<path_stem>.csv`` (full precision) and ``<path_stem>.md``; return both paths.

    Missing values are written as ``n/a`` in both (``pandas.read_csv`` reads ``n/a`` back as NaN).
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".md")
    df.to_csv(csv_path, na_rep=NA)
    md_path.write_text(to_markdown(df, floatfmt=floatfmt))
    return csv_path, md_path


# --------------------------------------------------------------------------- claim tables


def format_gap(result: dict, floatfmt: str = ".1f") -> str:
    """A claim result's gap and interval as text: ``"+3.1 [+0.8, +5.4] pts"`` (plus ``vs <row>`` for ``a_gt_each``)."""
    f = "+" + floatfmt
    text = f"{result['diff']:{f}} [{result['ci_low']:{f}}, {result['ci_high']:{f}}] pts"
    if result.get("kind") == "a_gt_each":
        text += f" vs {result['vs']}"
    return text


def not_run(claim_id: str, text: str, reason: str) -> dict:
    """The result of a claim that cannot be tested at this profile (its rows were not trained), and why."""
    return {"id": claim_id, "text": text, "verdict": NOT_RUN, "reason": reason}


def _ours(r: dict) -> str:
    return r["reason"] if r["verdict"] == NOT_RUN else format_gap(r)


def claims_table(results: list[dict]) -> pd.DataFrame:
    """One row per :func:`evaluate_claim` result: ``claim``, ``paper says``, ``ours`` (gap and interval), ``verdict``."""
    return pd.DataFrame(
        [{"claim": r["id"], "paper says": r["text"], "ours": _ours(r), "verdict": r["verdict"]} for r in results],
        columns=["claim", "paper says", "ours", "verdict"],
    )


# Plain words for each verdict, so a claim that does not reproduce at our scale says so.
_VERDICT_GLOSS = {
    REPRODUCED: "same direction as the paper, and the interval excludes 0",
    INCONCLUSIVE: "the interval covers 0: this scale cannot resolve the paper's claim",
    CONTRADICTED: "the interval excludes 0 on the opposite side: at this scale the data say the reverse",
}


def verdict_summary(results: list[dict]) -> str:
    """One markdown bullet per claim result, verdict first, e.g.

    ``- **reproduced** — R(2+1)D best: +3.1 [+0.8, +5.4] pts vs R3D (95% CI, 600 videos); ...``
    """
    bullets = []
    for r in results:
        if r["verdict"] == NOT_RUN:
            bullets.append(f"- **{NOT_RUN}** — {r['id']}: {r['reason']}. Paper: \"{r['text']}\"")
            continue
        bullets.append(
            f"- **{r['verdict']}** — {r['id']}: {format_gap(r)} ({r['ci']:.0%} CI, {r['n']} videos); "
            f"{_VERDICT_GLOSS[r['verdict']]}. Paper: \"{r['text']}\""
        )
    return "\n".join(bullets) + "\n"


# --------------------------------------------------------------------------- figures


def paper_vs_ours_bars(df: pd.DataFrame, metric: str, ax: Axes | None = None) -> Figure:
    """Grouped bars of the paper's ``metric`` and ours for each row of a :func:`compare_table` frame.

    A missing value gets no bar and an ``n/a`` label at its place. Without ``ax`` a new
    :class:`~matplotlib.figure.Figure` is made directly (not through pyplot), so no global
    pyplot state changes and a notebook shows it once, as the returned value.
    """
    cols = [f"{metric} paper", f"{metric} ours"]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"no columns {missing} in the table; metrics present: "
                       f"{sorted({str(c).rsplit(' ', 1)[0] for c in df.columns if str(c).endswith(' paper')})}")
    if ax is None:
        fig = Figure(figsize=(max(4.0, 0.9 * len(df) + 2.0), 3.5), layout="constrained")
        ax = fig.add_subplot()
    x = np.arange(len(df))
    width = 0.4
    for k, (col, label) in enumerate(zip(cols, ("paper", "ours"))):
        pos = x + (k - 0.5) * width
        values = df[col].to_numpy(dtype=float)
        present = ~np.isnan(values)
        ax.bar(pos[present], values[present], width, label=label)
        for p in pos[~present]:
            ax.text(p, 0, NA, ha="center", va="bottom", fontsize="small", rotation=90)
    ax.set_xticks(x, [str(i) for i in df.index], rotation=30, ha="right")
    ax.set_ylabel(metric)
    ax.legend()
    return ax.figure
