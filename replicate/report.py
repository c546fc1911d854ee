"""Paper-vs-ours tables, claim verdicts that keep their error rate, and the figures the notebooks show.

Every reproduced table shows the paper's number, ours and the difference (:func:`compare_table`).
At ``mini`` scale absolute accuracies mean little next to the paper's, so what we test are the
paper's *claims* (orderings and gaps, :class:`Claim`), each with one of three verdict words
(DESIGN notes, section 5):

- **reproduced**: the interval excludes 0 and points the way the paper says;
- **contradicted**: the interval excludes 0 and points the other way;
- **inconclusive**: the interval covers 0, so this scale cannot resolve the claim.

Data. A row's measurement is :data:`RowScores`: training seed -> {test video id: value in
[0, 1]}, the value being the video's top-1 correctness (0/1, ``video@1`` claims) or the fraction
of its test clips classified correctly (``clip@1`` claims). Rows are compared on the *same*
videos, matched by id (:func:`align`; a positional vector is refused, so two rows can never be
paired video-by-position). Seeds of different rows are independent trainings, never paired.

Method (:func:`gap_interval`). A side of a claim is one row or a group of rows; its value is the
mean over its rows of each row's mean over seeds and videos. The difference ``D`` (percentage
points) has two independent sources of noise, and its standard error adds both:

    se^2 = var_v(D_v) / V  +  sum_r var_s(acc_rs) / S_r / R_side(r)^2

- *test-video sampling*: ``D_v`` is the per-video difference of the two sides (each side's
  per-video mean over its rows of the row's seed-mean), ``V`` the number of shared videos. The
  pairing by video removes the difficulty both sides share;
- *run-to-run spread*: ``acc_rs`` is row r's accuracy with seed s, ``S_r`` its number of seeds
  and ``R_side(r)`` the number of rows on r's side (a group's mean divides each row's spread by
  the group size).

The interval is ``D +- t * se`` with a Student t quantile on Welch-Satterthwaite degrees of
freedom (``V - 1`` for the video part, ``S_r - 1`` for each row's seed part), so three seeds per
row give a wide interval, as they should. One refinement: the degrees of freedom (not the standard
error) are computed from an upper 75% confidence bound of each seed variance
(:func:`_seed_variance_caution`). A 2-df seed variance is often far too small by chance, and
plain Welch-Satterthwaite then also raises the degrees of freedom, shrinking the interval twice;
in simulation that made the far tails used by the Bonferroni levels up to 1.4 times too frequent,
and 2 seeds against 5 gave 6.7% false verdicts at the 5% level (3.9% with the bound).
A row with a single seed has no estimable spread: its seed part is left out (the interval covers
test-video sampling only when every row has one seed), and the result says so (``seed_spread``
False and a ``note``), never silently. The estimate is slightly conservative: a seed's accuracy
also carries that seed's own per-video scatter, which the video part already counts. An ANOVA
variant that subtracts it (interaction mean square) was simulated too; its Satterthwaite degrees
of freedom drop so much that it gained neither calibration nor power, so the simpler form stays.
Scalars measured once per seed with no per-video record (a final training accuracy) get a plain
Welch interval over seeds (:func:`seed_gap`).

Multiplicity (:func:`evaluate_claim`), with ``alpha = 1 - ci`` the claim's error budget:

- ``a_gt_b`` and ``group_gt_group`` make one comparison at level ``ci``;
- ``a_gt_each`` (row a above each of k rows) is *reproduced* only if every comparison is
  reproduced at level ``ci``: an intersection-union test, which needs no correction; it is
  *contradicted* only if some comparison is significantly reversed at the Bonferroni level
  ``1 - alpha / k``;
- ``peak_inside`` (a sweep peaks strictly inside) is *reproduced* if some interior row is above
  both end rows, each comparison at ``1 - alpha / m`` (m interior rows: Bonferroni over the
  choice of the interior row); *contradicted* if some end row is above every interior row at
  ``1 - alpha / 2`` (Bonferroni over the two ends);
- ``a_eq_b`` (equal within a margin) makes one comparison at level ``ci``: *reproduced* if the
  interval lies inside the margin, *contradicted* if it lies wholly beyond it; rows exactly a
  margin apart get either word at most ``alpha / 2`` of the time.

Each rule keeps the chance of a false *reproduced* or *contradicted* verdict at most ``alpha``
when the rows are equal: ``tests/test_verdict_calibration.py`` simulates equal models with seed
spread (3 seeds per row, a 3-point seed std, 100 or 400 videos, video@1 and clip@1) and finds, at
``ci = 0.95``, false-verdict rates of about 1-3% for ``a_gt_b``, 1-4% for ``group_gt_group``,
at most 1.5% for ``a_gt_each`` and about 0 for ``peak_inside``. The price is power: a 3-point
true gap with 3 seeds of 3-point spread is *reproduced* only about 5-10% of the time. The shown
interval of a claim is always the one behind its verdict (``verdict(ci_low, ci_high)`` gives the
claim's word back).

Tables are written as csv and markdown (:func:`write_table`); the markdown writer is built in so
the optional ``tabulate`` package is not needed. Missing numbers stay NaN in the frames and are
printed as ``n/a``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Literal, Mapping, NamedTuple, Sequence

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

ClaimKind = Literal["a_gt_b", "a_gt_each", "group_gt_group", "peak_inside", "a_eq_b"]
CLAIM_KINDS: tuple[str, ...] = ("a_gt_b", "a_gt_each", "group_gt_group", "peak_inside", "a_eq_b")
#: what a claim's per-video values are: top-1 correctness of the video (0/1) or its fraction of correct clips
METRICS: tuple[str, ...] = ("video@1", "clip@1")

#: one row's measurement: training seed -> {test video id: value in [0, 1]}
RowScores = Mapping[int | str, Mapping[str, float]]


# --------------------------------------------------------------------------- Student t quantiles
# numpy has no t distribution and scipy is not a dependency; these few lines give the quantile to
# ~1e-12 (checked in the tests against closed forms for 1 and 2 degrees of freedom and tables).


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz method)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta ``I_x(a, b)``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def _t_two_sided_tail(t: float, df: float) -> float:
    """``P(|T| > t)`` for Student's t with ``df`` degrees of freedom."""
    return _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def _t_density(t: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(t * t / df))


def _t_critical(ci: float, df: float) -> float:
    """The ``t`` with ``P(|T| <= t) = ci`` for ``df`` (possibly fractional, > 0) degrees of freedom.

    Newton's method on ``log t`` from the Cornish-Fisher expansion; for ``df > 1e4`` the
    expansion itself is exact to double precision.
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; got {ci}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    z = NormalDist().inv_cdf(0.5 + ci / 2)
    t = (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
         + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))
    if df > 1e4:
        return t
    tail = 1.0 - ci
    log_t = math.log(max(t, z))
    for _ in range(100):
        t = math.exp(log_t)
        p = _t_two_sided_tail(t, df)
        # d log P / d log t = -2 t f(t) / P; clamp the step so a poor start cannot overshoot
        step = (math.log(p) - math.log(tail)) / (-2.0 * t * _t_density(t, df) / p)
        step = max(-1.0, min(1.0, step))
        log_t -= step
        if abs(step) < 1e-12:
            break
    return math.exp(log_t)


# --------------------------------------------------------------------------- aligning rows by video id


class Aligned(NamedTuple):
    """Rows on their common test videos (:func:`align`); unpacks as ``video_ids, scores, dropped``."""

    #: the sorted video ids every seed of every row scored
    video_ids: list
    #: row name -> array (n_seeds, n_videos), column j is ``video_ids[j]``, rows in the row's seed order
    scores: dict[str, np.ndarray]
    #: how many video ids some row/seed had but not all (left out of the comparison)
    dropped: int


def align(rows: Mapping[str, RowScores]) -> Aligned:
    """Put every seed of every row on the same videos, looked up by video id, never by position.

    ``rows``: row name -> :data:`RowScores` (seed -> {video id: value in [0, 1]}). Returns
    :class:`Aligned` ``(video_ids, scores, dropped)``: the sorted ids common to every seed of
    every row, per row an array of shape (n_seeds, n_videos) whose columns follow ``video_ids``,
    and the number of ids left out because some row or seed lacks them (a crashed test video, a
    row scored on a subset). Comparing on the intersection is the only way to keep videos paired.

    Raises ValueError when there is no row, a row has no seed, a seed's scores are not a mapping
    of video id to value (a positional vector would silently pair different videos), no video is
    common to all, or a value is NaN or outside [0, 1].
    """
    if not rows:
        raise ValueError("align needs at least one row")
    id_sets: list[set] = []
    for name, seeds in rows.items():
        if not isinstance(seeds, Mapping) or not seeds:
            raise ValueError(f"row {name!r} has no seeds: expected a mapping seed -> {{video id: value}}")
        for seed, per_video in seeds.items():
            if not isinstance(per_video, Mapping):
                raise ValueError(f"row {name!r}, seed {seed!r}: expected a mapping video id -> value, got "
                                 f"{type(per_video).__name__}; positional vectors are refused so videos are "
                                 f"always matched by id")
            id_sets.append(set(per_video))
    common = set.intersection(*id_sets)
    if not common:
        sizes = ", ".join(f"{name!r}: {min(len(v) for v in seeds.values())}" for name, seeds in rows.items())
        raise ValueError(f"no test video id is common to every seed of every row (fewest ids per row: {sizes}); "
                         f"were the rows scored on the same test set, with the same id format?")
    try:
        video_ids = sorted(common)
    except TypeError as err:
        raise ValueError(f"video ids must be mutually comparable (e.g. all str): {err}") from None
    dropped = len(set.union(*id_sets)) - len(common)
    scores = {name: np.array([[per_video[v] for v in video_ids] for per_video in seeds.values()], dtype=np.float64)
              for name, seeds in rows.items()}
    for name, values in scores.items():
        _check_unit_interval(values, f"row {name!r}", video_ids, list(rows[name]))
    return Aligned(video_ids, scores, dropped)


def _check_unit_interval(values: np.ndarray, what: str, video_ids: Sequence | None = None,
                         seeds: Sequence | None = None) -> None:
    """Raise, naming the first offending seed and video, unless every value lies in [0, 1] (NaN fails too)."""
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        s, v = np.argwhere(bad)[0]
        seed = seeds[s] if seeds is not None else s
        video = video_ids[v] if video_ids is not None else v
        raise ValueError(f"{what}, seed {seed!r}, video {video!r}: value {values[s, v]!r} is not in [0, 1] "
                         f"(values are a video's correctness 0/1 or its fraction of correct clips)")


# --------------------------------------------------------------------------- gaps and verdicts


@dataclass(frozen=True)
class _RowSummary:
    """What the interval needs of one row (n_seeds, n_videos): computed once, reused by every comparison."""

    video_means: np.ndarray  # (V,) mean over seeds, per video
    accuracy: float  # mean over seeds and videos
    seed_variance: float  # var over seeds of the per-seed accuracy (ddof 1); NaN with one seed
    n_seeds: int


def _summarise(values: np.ndarray) -> _RowSummary:
    per_seed_accuracy = values.mean(axis=1)
    n_seeds = values.shape[0]
    return _RowSummary(
        video_means=values.mean(axis=0),
        accuracy=float(per_seed_accuracy.mean()),
        seed_variance=float(per_seed_accuracy.var(ddof=1)) if n_seeds > 1 else math.nan,
        n_seeds=n_seeds,
    )


def _checked_rows(side: Sequence[np.ndarray], name: str) -> list[np.ndarray]:
    """A side as a list of 2-D (seeds, videos) arrays in [0, 1], or a clear error."""
    if isinstance(side, np.ndarray):
        raise ValueError(f"side {name}: pass a list of row arrays, e.g. [scores] for one row "
                         f"(an array would be read as one row per seed)")
    rows = [np.asarray(x, dtype=np.float64) for x in side]
    if not rows:
        raise ValueError(f"side {name}: needs at least one row")
    for i, x in enumerate(rows):
        if x.ndim != 2 or 0 in x.shape:
            raise ValueError(f"side {name}, row {i}: expected a non-empty array (n_seeds, n_videos), got shape "
                             f"{x.shape}; for a single seed use x[None, :]")
        _check_unit_interval(x, f"side {name}, row {i}")
    return rows


def gap_interval(a: Sequence[np.ndarray], b: Sequence[np.ndarray], ci: float = 0.95) -> dict:
    """The difference ``a - b`` in percentage points with an interval over seeds *and* test videos.

    ``a`` and ``b`` are lists of rows, each an array (n_seeds, n_videos) on the same videos in the
    same order (:func:`align` makes them); a side's value is the mean over its rows of each
    row's seed-mean, so a list of several rows is their average ("3D models above 2D models").
    The standard error adds the test-video part and each row's seed part, with Welch-
    Satterthwaite degrees of freedom for the t quantile (module docstring).

    Returns ``{"diff", "ci_low", "ci_high", "half_width", "se", "se_videos", "se_seeds", "df",
    "n", "seeds", "ci", "seed_spread", "note", "acc_a", "acc_b"}`` (percentage points; ``n`` the
    number of videos; ``seeds`` ``{"a": [...], "b": [...]}`` the seeds per row; ``se_videos`` and
    ``se_seeds`` the two parts of ``se``). With a single-seed row ``seed_spread`` is False and
    ``note`` says which spread the interval leaves out (all of it when every row has one seed:
    then it covers test-video sampling only).
    """
    a_rows, b_rows = _checked_rows(a, "a"), _checked_rows(b, "b")
    n_videos = {x.shape[1] for x in a_rows + b_rows}
    if len(n_videos) > 1:
        raise ValueError(f"every row must be scored on the same videos; got {sorted(n_videos)} videos (use align)")
    return _gap([_summarise(x) for x in a_rows], [_summarise(x) for x in b_rows], ci)


def _gap(a: Sequence[_RowSummary], b: Sequence[_RowSummary], ci: float) -> dict:
    """:func:`gap_interval` on row summaries (the claims reuse each row's summary across comparisons)."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; got {ci}")
    per_video_gap = (np.mean([r.video_means for r in a], axis=0) - np.mean([r.video_means for r in b], axis=0)) * 100
    n_videos = per_video_gap.size
    if n_videos < 2:
        raise ValueError(f"need at least 2 shared test videos to estimate the video part of the interval, "
                         f"got {n_videos}")
    video_part = float(per_video_gap.var(ddof=1)) / n_videos
    # each independent part of the variance (squared percentage points), its degrees of freedom, and
    # the factor that turns it into the cautious value the degrees of freedom are computed from
    seed_parts = [(r.seed_variance * 100**2 / r.n_seeds / len(side) ** 2, r.n_seeds - 1,
                   _seed_variance_caution(r.n_seeds - 1))
                  for side in (a, b) for r in side if r.n_seeds > 1]
    parts = [(video_part, n_videos - 1, 1.0), *seed_parts]
    seed_part = sum(v for v, _, _ in seed_parts)
    seed_spread = all(r.n_seeds > 1 for r in (*a, *b))
    result = {
        "diff": float(per_video_gap.mean()),
        "se": math.sqrt(video_part + seed_part),
        "se_videos": math.sqrt(video_part),
        "se_seeds": math.sqrt(seed_part),
        "df": _satterthwaite_df([(v * caution, df) for v, df, caution in parts]),
        "n": int(n_videos),
        "seeds": {"a": [r.n_seeds for r in a], "b": [r.n_seeds for r in b]},
        "seed_spread": seed_spread,
        "note": _single_seed_note([r.n_seeds for r in (*a, *b)], "a row"),
        "acc_a": float(np.mean([r.accuracy for r in a]) * 100),
        "acc_b": float(np.mean([r.accuracy for r in b]) * 100),
    }
    return _at_level(result, ci)


def _single_seed_note(n_seeds: Sequence[int], who: str) -> str:
    """Empty when every row has 2+ seeds; else says which spread the interval leaves out."""
    if all(n > 1 for n in n_seeds):
        return ""
    if all(n == 1 for n in n_seeds):
        return ("every row has a single seed: run-to-run spread is not estimable, the interval covers "
                "test-video sampling only")
    return (f"{who} had a single seed: its run-to-run spread is not estimable and not in the interval, which covers "
            f"test-video sampling and the other rows' seed spread")


def _satterthwaite_df(parts: Sequence[tuple[float, float]]) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent variance estimates ``(value, df)``.

    ``inf`` when every part is 0 (the interval is then a point and its quantile irrelevant).
    """
    positive = [(v, d) for v, d in parts if v > 0]
    if not positive:
        return math.inf
    return float(sum(v for v, _ in positive) ** 2 / sum(v**2 / d for v, d in positive))


#: one-sided confidence of the upper bound on a seed variance that the degrees of freedom use
_SEED_CAUTION_LEVEL = 0.75


@functools.lru_cache(maxsize=None)
def _seed_variance_caution(df: int) -> float:
    """``df / chi2_df(1 - 0.75)``: a seed variance estimate with ``df`` degrees of freedom -> its upper 75% bound.

    Why: with 3 seeds a row's seed variance rests on 2 degrees of freedom and is often far too
    small by chance; plugged into Welch-Satterthwaite, that also hands the video part (V - 1
    degrees of freedom) the weight, so the same draw that shrinks the interval makes its t
    quantile small as well. In the simulation this doubled-up luck made the far tails (the
    Bonferroni levels of ``a_gt_each``) up to 1.4 times too frequent, and 2 seeds against 5 (a
    1-df variance, where plain Welch is liberal) gave 6.7% false verdicts at the 5% level.
    Computing the degrees of freedom (only they; the standard error keeps the plain estimate)
    from an upper bound of each seed variance removes both (3.9% for 2 against 5) at a small
    cost in power; the factor is 9.8 for 2 seeds, 3.5 for 3, 1.5 for 10 and tends to 1.
    """
    return df / _chi2_quantile(1.0 - _SEED_CAUTION_LEVEL, df)


def _chi2_quantile(p: float, df: int) -> float:
    """Quantile of the chi-square distribution by bisection on its CDF (lower incomplete gamma series)."""
    low, high = 0.0, df + 20.0 * math.sqrt(df) + 20.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if _lower_incomplete_gamma(df / 2, mid / 2) < p else (low, mid)
    return (low + high) / 2


def _lower_incomplete_gamma(a: float, x: float) -> float:
    """Regularized ``P(a, x)`` by its power series (fine for the moderate ``x`` of :func:`_chi2_quantile`)."""
    if x <= 0:
        return 0.0
    term = total = 1.0 / a
    n = 0
    while term > total * 1e-16 and n < 10_000:
        n += 1
        term *= x / (a + n)
        total += term
    return min(1.0, total * math.exp(-x + a * math.log(x) - math.lgamma(a)))


def _at_level(result: dict, ci: float) -> dict:
    """``result`` with its interval recomputed at level ``ci`` (same estimate, se and df)."""
    half = _t_critical(ci, result["df"]) * result["se"] if result["se"] > 0 else 0.0
    return {**result, "ci": float(ci), "half_width": half,
            "ci_low": result["diff"] - half, "ci_high": result["diff"] + half}


def seed_gap(a: Sequence[float], b: Sequence[float], ci: float = 0.95) -> dict:
    """Difference ``a - b`` (percentage points) of a scalar measured once per seed: a plain Welch t interval.

    For numbers with no per-video record, such as each seed's final training accuracy (each run
    saw its own random training clips, so nothing pairs them): ``a`` and ``b`` hold one fraction
    in [0, 1] per seed of each row. The only noise left to estimate is the spread over seeds,
    hence at least 2 seeds per side. Same keys as :func:`gap_interval` where they apply
    (``seeds`` counts seeds per side; there is no ``n`` of videos).
    """
    sides = {}
    for name, values in (("a", a), ("b", b)):
        x = np.asarray(values, dtype=np.float64)
        if x.ndim != 1 or x.size < 2:
            raise ValueError(f"seed_gap side {name}: need one value per seed and at least 2 seeds to estimate "
                             f"their spread, got {x.size if x.ndim == 1 else f'shape {x.shape}'}")
        _check_unit_interval(x[None, :], f"seed_gap side {name}")
        sides[name] = x * 100
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; got {ci}")
    parts = [(x.var(ddof=1) / x.size, x.size - 1) for x in sides.values()]
    variance = sum(v for v, _ in parts)
    result = {
        "diff": float(sides["a"].mean() - sides["b"].mean()),
        "se": math.sqrt(variance),
        "df": _satterthwaite_df(parts),
        "seeds": {"a": int(sides["a"].size), "b": int(sides["b"].size)},
        "seed_spread": True,
        "note": "",
        "acc_a": float(sides["a"].mean()),
        "acc_b": float(sides["b"].mean()),
    }
    return _at_level(result, ci)


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


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """A claim of the paper about its rows, tested on per-video values of ``metric``.

    ``id`` is a short, unique label shown in tables ("R(2+1)D best"); ``text`` the paper's own
    words; ``metric`` what the per-video values are (``"video@1"``: 0/1 correctness,
    ``"clip@1"``: fraction of the video's clips right). ``kind`` says how ``a`` and ``b`` (row
    names) are compared:

    - ``"a_gt_b"``: row ``a`` above row ``b`` ("MC above rMC");
    - ``"a_gt_each"``: row ``a`` above every row in ``b`` ("R(2+1)D best");
    - ``"group_gt_group"``: the mean of the rows in ``a`` above the mean of the rows in ``b``
      ("3D/MC above 2D");
    - ``"peak_inside"``: ``a`` is the ordered rows of a sweep (clip lengths 8, 16, ..., 48) and
      the metric peaks strictly inside it, not at either end; ``b`` stays empty (None);
    - ``"a_eq_b"``: rows ``a`` and ``b`` equal within ``margin`` points ("gives no additional
      improvement"): *reproduced* when the interval lies inside ``[-margin, +margin]`` (two
      one-sided tests, each at ``(1 - ci) / 2``), *contradicted* when it lies wholly outside that
      band (a difference larger than the margin), else *inconclusive*.
    """

    id: str
    text: str
    kind: ClaimKind
    a: str | list[str]
    b: str | list[str] | None = None
    metric: str = "video@1"
    margin: float | None = None

    def __post_init__(self) -> None:
        where = f"claim {self.id!r}"
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"{where}: unknown kind {self.kind!r}; use one of {CLAIM_KINDS}")
        if (self.kind == "a_eq_b") != (self.margin is not None) or (self.margin is not None and not self.margin > 0):
            raise ValueError(f"{where}: kind 'a_eq_b' needs a margin > 0 (points within which the rows count as "
                             f"equal), and only it takes one; got margin {self.margin!r}")
        if self.metric not in METRICS:
            raise ValueError(f"{where}: unknown metric {self.metric!r}; use one of {METRICS}")
        if self.kind == "peak_inside":
            self._check_sweep(where)
            return
        if self.kind in ("a_gt_b", "a_gt_each", "a_eq_b") and not isinstance(self.a, str):
            raise ValueError(f"{where}: kind {self.kind!r} compares one row, so `a` must be a row name")
        if self.kind in ("a_gt_b", "a_eq_b") and not isinstance(self.b, str):
            raise ValueError(f"{where}: kind {self.kind!r} needs one row name in `b`; "
                             f"use 'a_gt_each' or 'group_gt_group' for several")
        a_rows, b_rows = _rows(self.a), _rows(self.b)
        if not a_rows or not b_rows:
            raise ValueError(f"{where}: `a` and `b` must each name at least one row")
        for side, rows in (("a", a_rows), ("b", b_rows)):
            if len(set(rows)) < len(rows):
                raise ValueError(f"{where}: `{side}` names a row twice: {rows}")
        if set(a_rows) & set(b_rows):
            raise ValueError(f"{where}: rows {sorted(set(a_rows) & set(b_rows))} are on both sides")

    def _check_sweep(self, where: str) -> None:
        if self.b:
            raise ValueError(f"{where}: kind 'peak_inside' takes the whole sweep in `a`; `b` must be empty or None")
        rows = _rows(self.a)
        if len(rows) < 3:
            raise ValueError(f"{where}: kind 'peak_inside' needs a sweep of at least 3 rows (two ends and an "
                             f"interior), got {rows}")
        if len(set(rows)) < len(rows):
            raise ValueError(f"{where}: the sweep names a row twice: {rows}")

    @property
    def rows(self) -> list[str]:
        """Every row the claim uses, ``a`` first."""
        return _rows(self.a) + _rows(self.b)


def _rows(side: str | Sequence[str] | None) -> list[str]:
    if side is None:
        return []
    return [side] if isinstance(side, str) else list(side)


def _side_label(side: str | Sequence[str]) -> str:
    return " / ".join(_rows(side))


def evaluate_claim(claim: Claim, scores: Mapping[str, RowScores], ci: float = 0.95) -> dict:
    """Test ``claim`` on ``scores`` (row name -> seed -> {video id: value}), matching videos by id.

    Only the rows the claim uses are aligned (:func:`align`), so a video missing from an
    unrelated row costs nothing. Returns the :func:`evaluate_aligned` result plus
    ``"dropped_videos"``: how many video ids were left out because some row or seed lacks them.
    """
    missing = [r for r in claim.rows if r not in scores]
    if missing:
        raise KeyError(f"claim {claim.id!r}: no scores for rows {missing}; have {sorted(scores)}")
    aligned = align({r: scores[r] for r in claim.rows})
    return {**evaluate_aligned(claim, aligned.scores, ci), "dropped_videos": aligned.dropped}


def evaluate_aligned(claim: Claim, scores: Mapping[str, np.ndarray], ci: float = 0.95) -> dict:
    """Test ``claim`` on rows already aligned: row name -> array (n_seeds, n_videos), same videos in the same order.

    :func:`evaluate_claim` calls this after :func:`align`; the calibration simulation calls it
    directly. Returns ``{"id", "text", "kind", "metric", "diff", "ci_low", "ci_high",
    "half_width", "se", "df", "n", "ci", "alpha", "verdict", "vs", "comparisons", "seeds",
    "seed_spread", "note"}`` (plus ``"row"`` and ``"peak"`` for ``peak_inside``):

    - the headline (``diff`` .. ``ci``, ``vs``) is the comparison that decides the verdict, at the
      level its test used (``ci`` may be a Bonferroni level such as 0.995), so that
      ``verdict(ci_low, ci_high)`` equals ``verdict``. Reproduced: the smallest margin (the
      runner-up, for ``a_gt_each``); contradicted: the reversed comparison (the most reversed);
      inconclusive: the smallest gap among those still undecided, at the narrower of the two
      levels whose interval covers 0 (the claim's own level where it does);
    - ``comparisons`` lists every comparison made (``row`` vs ``vs``), each with its interval at
      the reproduction level, its interval at the contradiction level under ``"contra"``, and its
      own ``verdict`` word;
    - ``alpha`` is the claim's error budget ``1 - ci``; ``seeds`` the seeds per row;
      ``seed_spread`` False, with a ``note`` naming the rows, if a row has one seed: its
      run-to-run spread is then not in the interval (test-video sampling only, if every row
      has one seed).
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; got {ci}")
    rows = _checked_claim_rows(claim, scores)
    summaries = {name: _summarise(values) for name, values in rows.items()}
    alpha = round(1.0 - ci, 12)  # 0.05, not 0.050000000000000044
    if claim.kind == "peak_inside":
        outcome = _peak_inside(claim, summaries, alpha)
    elif claim.kind == "a_eq_b":
        outcome = _a_equals_b(claim, summaries, alpha)
    else:
        outcome = _a_above_b(claim, summaries, alpha)
    comparisons, overall, headline = outcome["comparisons"], outcome["verdict"], outcome["headline"]
    single_seed = [name for name in claim.rows if summaries[name].n_seeds == 1]
    result = {
        "id": claim.id,
        "text": claim.text,
        "kind": claim.kind,
        "metric": claim.metric,
        **{k: headline[k] for k in ("diff", "ci_low", "ci_high", "half_width", "se", "df", "n", "ci")},
        "alpha": alpha,
        "verdict": overall,
        "vs": headline["vs"],
        "comparisons": comparisons,
        "seeds": {name: summaries[name].n_seeds for name in claim.rows},
        "seed_spread": not single_seed,
        "note": _single_seed_note([summaries[name].n_seeds for name in claim.rows], ", ".join(single_seed)),
    }
    if claim.kind == "peak_inside":
        result["row"] = headline["row"]
        result["peak"] = outcome["peak"]
    if claim.kind == "a_eq_b":
        result["margin"] = claim.margin
    return result


def _checked_claim_rows(claim: Claim, scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The claim's rows as 2-D arrays on one shared set of videos, valid for its metric, or a clear error."""
    missing = [r for r in claim.rows if r not in scores]
    if missing:
        raise KeyError(f"claim {claim.id!r}: no scores for rows {missing}; have {sorted(scores)}")
    rows = {}
    for name in claim.rows:
        x = np.asarray(scores[name], dtype=np.float64)
        if x.ndim != 2 or 0 in x.shape:
            raise ValueError(f"claim {claim.id!r}, row {name!r}: expected an array (n_seeds, n_videos), "
                             f"got shape {x.shape}")
        _check_unit_interval(x, f"claim {claim.id!r}, row {name!r}")
        if claim.metric == "video@1" and not np.all((x == 0) | (x == 1)):
            raise ValueError(f"claim {claim.id!r}, row {name!r}: video@1 values must be 0/1 correctness; "
                             f"fractional values are clip@1 (set metric='clip@1')")
        rows[name] = x
    n_videos = {name: x.shape[1] for name, x in rows.items()}
    if len(set(n_videos.values())) > 1:
        raise ValueError(f"claim {claim.id!r}: rows are on different numbers of videos {n_videos}; align them first")
    return rows


def _compare(row: str, vs: str | list[str], summaries: Mapping[str, _RowSummary], rep_ci: float,
             contra_ci: float) -> dict:
    """One comparison ``row - vs``: its interval at the reproduction level, at the contradiction level, and its word.

    The word is *reproduced* if the reproduction-level interval is above 0, *contradicted* if the
    contradiction-level interval is below 0 (both cannot happen: both intervals are centred on
    the same difference), else *inconclusive*.
    """
    a, b = _rows(row), _rows(vs)
    gap = _gap([summaries[r] for r in a], [summaries[r] for r in b], rep_ci)
    contra = gap if contra_ci == rep_ci else _at_level(gap, contra_ci)
    if gap["ci_low"] > 0:
        word = REPRODUCED
    elif contra["ci_high"] < 0:
        word = CONTRADICTED
    else:
        word = INCONCLUSIVE
    return {"row": _side_label(a), "vs": _side_label(b), **gap, "verdict": word,
            "contra": {k: contra[k] for k in ("ci", "ci_low", "ci_high", "half_width")}}


def _shown(comparison: dict, level: str) -> dict:
    """The headline fields of a comparison with its interval at the ``"rep"`` or ``"contra"`` level, or
    for an inconclusive one (``"covering"``) the narrower of the two that covers 0: the reproduction
    level's when it does (a reader sees the resolution at the claim's own level, not one corrected
    for comparisons that did not decide anything), else the contradiction level's."""
    if level == "rep" or (level == "covering" and comparison["ci_low"] <= 0 <= comparison["ci_high"]):
        return comparison
    return {**comparison, **comparison["contra"]}


def _a_above_b(claim: Claim, summaries: Mapping[str, _RowSummary], alpha: float) -> dict:
    """``a_gt_b``, ``group_gt_group`` (one comparison) and ``a_gt_each`` (k comparisons; multiplicity rules above)."""
    if claim.kind == "a_gt_each":
        others = _rows(claim.b)
        comparisons = [_compare(claim.a, row, summaries, 1 - alpha, 1 - alpha / len(others)) for row in others]
    else:
        comparisons = [_compare(claim.a, claim.b, summaries, 1 - alpha, 1 - alpha)]
    words = [c["verdict"] for c in comparisons]
    if all(w == REPRODUCED for w in words):
        overall, candidates, level = REPRODUCED, comparisons, "rep"
    elif CONTRADICTED in words:
        overall, candidates, level = CONTRADICTED, [c for c in comparisons if c["verdict"] == CONTRADICTED], "contra"
    else:
        overall, candidates, level = INCONCLUSIVE, [c for c in comparisons if c["verdict"] == INCONCLUSIVE], "covering"
    headline = _shown(min(candidates, key=lambda c: c["diff"]), level)
    return {"comparisons": comparisons, "verdict": overall, "headline": headline}


def _a_equals_b(claim: Claim, summaries: Mapping[str, _RowSummary], alpha: float) -> dict:
    """``a_eq_b``: equal within ``claim.margin``. Rows exactly ``margin`` apart are called
    *reproduced* (interval inside the band) at most ``alpha / 2`` of the time; rows closer than
    that are called *contradicted* (interval wholly beyond the band) less often than that. Unlike
    the other kinds, :func:`verdict` of the interval is not the claim's word."""
    c = _compare(claim.a, claim.b, summaries, 1 - alpha, 1 - alpha)
    if -claim.margin <= c["ci_low"] and c["ci_high"] <= claim.margin:
        word = REPRODUCED
    elif c["ci_low"] > claim.margin or c["ci_high"] < -claim.margin:
        word = CONTRADICTED
    else:
        word = INCONCLUSIVE
    c = {**c, "verdict": word}
    return {"comparisons": [c], "verdict": word, "headline": c}


def _peak_inside(claim: Claim, summaries: Mapping[str, _RowSummary], alpha: float) -> dict:
    """``peak_inside``: interior rows against both end rows, selection-aware (multiplicity rules above)."""
    sweep = _rows(claim.a)
    ends, interior = (sweep[0], sweep[-1]), sweep[1:-1]
    rep_ci, contra_ci = 1 - alpha / len(interior), 1 - alpha / 2
    comparisons = [_compare(i, e, summaries, rep_ci, contra_ci) for i in interior for e in ends]
    by_interior = {i: [c for c in comparisons if c["row"] == i] for i in interior}
    by_end = {e: [c for c in comparisons if c["vs"] == e] for e in ends}
    peaks = [i for i in interior if all(c["verdict"] == REPRODUCED for c in by_interior[i])]
    # ends in order of their observed accuracy, the higher one first
    dominant = [e for e in sorted(ends, key=lambda e: -summaries[e].accuracy)
                if all(c["verdict"] == CONTRADICTED for c in by_end[e])]
    if peaks:
        # the interior row whose weaker margin is the largest, shown against the end it beats by less
        best = max(peaks, key=lambda i: min(c["diff"] for c in by_interior[i]))
        overall, headline = REPRODUCED, _shown(min(by_interior[best], key=lambda c: c["diff"]), "rep")
    elif dominant:
        # the end above every interior row, shown against the interior row that comes closest
        overall, headline = CONTRADICTED, _shown(max(by_end[dominant[0]], key=lambda c: c["diff"]), "contra")
    else:
        # an undecided comparison always exists here: were every interior row significantly below
        # one end and above the other, the two ends would be ordered both ways round
        shown = [_shown(c, "covering") for c in comparisons]
        undecided = [s for s in shown if s["ci_low"] <= 0 <= s["ci_high"]] or shown
        best_end = max(ends, key=lambda e: summaries[e].accuracy)
        overall = INCONCLUSIVE
        headline = max(undecided, key=lambda s: (s["vs"] == best_end, s["diff"]))
    peak = max(sweep, key=lambda r: summaries[r].accuracy)
    return {"comparisons": comparisons, "verdict": overall, "headline": headline, "peak": peak}


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


def add_columns(table: pd.DataFrame, columns: dict[str, list]) -> pd.DataFrame:
    """``table`` (a :func:`compare_table`) with ``columns`` (name -> one value per row) before its note."""
    out = table.copy()
    for name, values in columns.items():
        out.insert(len(out.columns) - 1, name, values)
    return out


def with_seed_columns(table: pd.DataFrame, run_metrics: Mapping[str, dict]) -> pd.DataFrame:
    """``table`` (rows named as ``run_metrics``, ``replicate.runs.load_run`` results) with what a reader
    needs to trust its numbers: the seed standard deviation of video@1, the number of seeds, and the
    final *training* accuracy (a net far from 100% has not converged)."""
    rows = [run_metrics[n] for n in table.index]
    return add_columns(table, {"video@1 seed sd": [100 * m.get("video@1_std", np.nan) for m in rows],
                               "seeds": [len(m.get("seeds", [])) for m in rows],
                               "train acc (ours)": [100 * m.get("train_acc", np.nan) for m in rows]})


# --------------------------------------------------------------------------- claim tables


def format_gap(result: dict, floatfmt: str = ".1f") -> str:
    """A gap, its interval and half-width as text: ``"+3.1 [+0.8, +5.4] pts (±2.3)"``.

    ``a_gt_each`` results add ``" vs <row>"`` (the comparison shown); ``peak_inside`` results add
    ``" <interior row> vs <end row>"``.
    """
    f = "+" + floatfmt
    half = result.get("half_width", (result["ci_high"] - result["ci_low"]) / 2)
    text = f"{result['diff']:{f}} [{result['ci_low']:{f}}, {result['ci_high']:{f}}] pts (±{half:{floatfmt}})"
    if result.get("kind") == "a_gt_each":
        text += f" vs {result['vs']}"
    elif result.get("kind") == "peak_inside":
        text += f" {result['row']} vs {result['vs']}"
    elif result.get("kind") == "a_eq_b":
        text += f", equal within ±{result['margin']:{floatfmt}}"
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


_EQUALITY_GLOSS = {
    REPRODUCED: "the interval lies within the margin: equal at this resolution, as the paper says",
    INCONCLUSIVE: "the interval reaches past the margin but not wholly: too wide to call the rows equal or different",
    CONTRADICTED: "the interval lies beyond the margin: the rows differ by more than it, against the paper",
}


def _level(ci: float) -> str:
    """``0.95`` -> ``"95%"``, ``0.99545`` -> ``"99.5%"`` (Bonferroni levels need the decimals)."""
    return f"{100 * ci:.3g}%"


def _seeds_text(seeds: Mapping[str, int]) -> str:
    counts = set(seeds.values())
    if len(counts) == 1:
        n = counts.pop()
        return f"{n} seed{'s' if n != 1 else ''} per row"
    return "seeds per row: " + ", ".join(f"{row} {n}" for row, n in seeds.items())


def _noise_text(r: dict) -> str:
    """What the interval covers: seeds and videos, or videos only / which rows lack a seed spread."""
    videos = f"{r['n']} test videos" if r.get("n") is not None else "test videos"
    seeds = r.get("seeds") if isinstance(r.get("seeds"), Mapping) else {}
    if r.get("seed_spread", True):
        per_row = f" ({_seeds_text(seeds)})" if seeds else ""
        return f"covering run-to-run spread over seeds{per_row} and test-video sampling ({videos})"
    single = [row for row, n in seeds.items() if n == 1]
    if len(single) == len(seeds):
        return f"covering test-video sampling only ({videos}): one seed per row, so run-to-run spread is not measured"
    return (f"covering test-video sampling ({videos}) and the seed spread of "
            f"{', '.join(row for row in seeds if row not in single)}; not the run-to-run spread of "
            f"{', '.join(single)} (a single seed)")


def verdict_summary(results: list[dict]) -> str:
    """One markdown bullet per claim result, verdict first, e.g.

    ``- **reproduced** — R(2+1)D best: +3.1 [+0.8, +5.4] pts (±2.3) vs R3D (95% CI covering
    run-to-run spread over seeds (3 seeds per row) and test-video sampling (600 test videos));
    ...``. ``peak_inside`` results name the observed peak.
    """
    bullets = []
    for r in results:
        if r["verdict"] == NOT_RUN:
            bullets.append(f"- **{NOT_RUN}** — {r['id']}: {r['reason']}. Paper: \"{r['text']}\"")
            continue
        peak = f"; observed peak at {r['peak']}" if r.get("kind") == "peak_inside" else ""
        bullets.append(
            f"- **{r['verdict']}** — {r['id']}: {format_gap(r)} ({_level(r['ci'])} CI {_noise_text(r)}){peak}; "
            f"{(_EQUALITY_GLOSS if r.get('kind') == 'a_eq_b' else _VERDICT_GLOSS)[r['verdict']]}. "
            f"Paper: \"{r['text']}\""
        )
    return "\n".join(bullets) + "\n"


# --------------------------------------------------------------------------- a paper's results folder

#: ``results/<paper>/<profile>/``: what the notebooks write and the repository shows
RESULTS_ROOT = Path(__file__).resolve().parent.parent / "results"


def results_dir(paper: str, profile: str) -> Path:
    return RESULTS_ROOT / paper / profile


def write_results(paper: str, df: pd.DataFrame, name: str, profile: str, claims: list[dict] | None = None) -> None:
    """``results/<paper>/<profile>/<name>.{csv,md}`` (+ ``<name>_claims.{json,csv,md}`` when claims are given).
    A paper module binds its name: ``write = functools.partial(report.write_results, PAPER)``."""
    import json

    out = results_dir(paper, profile)
    write_table(df, out / name)
    if claims is not None:
        (out / f"{name}_claims.json").write_text(json.dumps(claims, indent=1, default=float) + "\n")
        write_table(claims_table(claims).set_index("claim"), out / f"{name}_claims")


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A Figure with an Agg canvas, made without pyplot so a notebook's backend is left alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def save_figure(paper: str, fig: Figure, name: str, profile: str):
    """Save ``results/<paper>/<profile>/<name>.png``; returns it as an image a notebook displays."""
    from IPython.display import Image

    out = results_dir(paper, profile)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return Image(filename=str(path))


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
