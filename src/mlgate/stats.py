"""The statistics every check shares: paired bootstrap, DeLong, McNemar, Wilson, KS, PSI, and the
run-level t, Welch and Yuen intervals, quantile intervals and the batch-size line fit.

Pure functions on arrays; no I/O. Confidence levels are two-sided unless a name says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

# scipy.stats costs half a second to import and scipy.special 0.13 s (its array-API layer): the normal
# quantile and Kolmogorov's law are computed here, and scipy.special is imported only by the t and
# binomial quantiles, so `mlgate compare` of regression predictions starts without scipy at all
# (docs/design.md, tool speed).

Array = NDArray[np.float64]

# Above this many rows the bootstrap resamples random blocks of rows instead of single rows: the
# block sums are independent, so the interval is the same to within Monte Carlo error, and the cost
# stops growing with the data (1,000,000 rows compare in well under a second).
MAX_BOOTSTRAP_UNITS = 4000
KS_LIMIT_FROM = 10_000  # effective rows from which the KS p-value comes from the limiting law


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided confidence interval and standard error."""

    estimate: float
    low: float
    high: float
    se: float


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (0.99 -> 2.576)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def block_sums(columns: list[Array], n_blocks: int, seed: int) -> tuple[Array, Array]:
    """Per-block sums of each column (rows assigned to blocks at random) and the block sizes."""
    n = columns[0].size
    if n <= n_blocks:
        return np.vstack(columns).astype(float), np.ones(n)
    rng = np.random.default_rng(seed)
    block = rng.permutation(n) % n_blocks
    sums = np.vstack([np.bincount(block, weights=c, minlength=n_blocks) for c in columns]).astype(float)
    return sums, np.bincount(block, minlength=n_blocks).astype(float)


def paired_bootstrap(
    columns: list[Array],
    statistic: Callable[[Array, Array], Array],
    confidence: float,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Bootstrap a statistic of per-row sums, resampling rows (or row blocks) jointly.

    ``columns`` are per-row quantities of both versions (e.g. squared errors of baseline and
    candidate); the same resampled rows feed every column, which is what makes it paired.
    ``statistic(sums, counts)`` gets arrays of shape (len(columns), B) and (B,) and returns B values.
    """
    return Bootstrap(resample(columns, resamples, seed), statistic).interval(confidence)


@dataclass(frozen=True)
class Resampled:
    """Column sums over the full data and over each bootstrap resample of its rows (or row blocks).

    Drawn once, they serve every statistic of the same rows: the draws depend only on the row
    count and the seed, so several metrics share one resampling at the cost of one.
    """

    sums: Array  # (columns, resamples)
    sizes: Array  # (resamples,)
    totals: Array  # (columns, 1)
    size: Array  # (1,)

    def take(self, columns: list[int]) -> Resampled:
        """The same draws restricted to some of the columns."""
        return Resampled(self.sums[columns], self.sizes, self.totals[columns], self.size)


def resample(columns: list[Array], resamples: int = 2000, seed: int = 0) -> Resampled:
    """Draw ``resamples`` bootstrap resamples of the rows and sum every column over each."""
    sums, sizes = block_sums(columns, MAX_BOOTSTRAP_UNITS, seed)
    units = sizes.size
    rng = np.random.default_rng(seed + 1)
    chunks, chunk_sizes = [], []
    for start in range(0, resamples, 250):  # chunks keep the weight matrix small
        b = min(250, resamples - start)
        draws = rng.integers(0, units, size=(b, units))
        # counts of each unit in each resample (a multinomial draw), one bincount for the chunk
        offsets = np.arange(b)[:, None] * units
        weights = np.bincount((draws + offsets).ravel(), minlength=b * units).reshape(b, units).T
        chunks.append(sums @ weights)
        chunk_sizes.append(sizes @ weights)
    return Resampled(
        np.concatenate(chunks, axis=1),
        np.concatenate(chunk_sizes),
        sums.sum(axis=1, keepdims=True),
        np.array([sizes.sum()]),
    )


class Bootstrap:
    """A paired bootstrap distribution of one statistic, read at any confidence level."""

    def __init__(
        self, draws: Resampled, statistic: Callable[[Array, Array], Array], relative: bool = False
    ) -> None:
        self.relative = relative
        self.samples = np.asarray(statistic(draws.sums, draws.sizes), dtype=float)
        self.point = float(statistic(draws.totals, draws.size)[0])
        self.se = float(np.std(self.samples, ddof=1))

    def interval(self, confidence: float) -> Interval:
        """Percentile interval at ``confidence`` (two-sided), never narrower than the normal one.

        A 99% percentile interval rests on the 0.5% tails: a handful of resamples, which makes it
        too narrow by chance (simulated A/A false alarms 0.9% instead of 0.5%). Taking the wider of
        it and point ± z·se (on the log scale for ratios) keeps the percentile's skew and the normal
        interval's coverage.
        """
        tail = (1 - confidence) / 2
        low, high = np.quantile(self.samples, [tail, 1 - tail])
        if self.relative and self.point > -1 and np.all(self.samples > -1):
            # a ratio - 1: the normal interval belongs on the log scale (a zero ratio has no log)
            logs = np.log1p(self.samples)
            centre, half = math.log1p(self.point), z_value(confidence) * float(np.std(logs, ddof=1))
            normal_low, normal_high = math.expm1(centre - half), math.expm1(centre + half)
        else:
            half = z_value(confidence) * self.se
            normal_low, normal_high = self.point - half, self.point + half
        return Interval(self.point, min(float(low), normal_low), max(float(high), normal_high), self.se)


def _midranks(x: Array) -> Array:
    """1-based ranks of ``x``, ties given the mean of the ranks they span."""
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]  # each run of ties spans ranks starts+1 .. ends
    ranks = np.empty(x.size)
    ranks[order] = np.repeat((starts + 1 + ends) / 2, ends - starts)
    return ranks


def delong(truth: NDArray[np.int_], score_a: Array, score_b: Array, confidence: float) -> Interval:
    """AUC(b) - AUC(a) on the same rows with DeLong's variance (DeLong et al., 1988).

    Uses the fast midrank formulation (Sun & Xu, 2014).
    """
    positive = truth == 1
    m, n = int(positive.sum()), int((~positive).sum())
    if m == 0 or n == 0:
        raise ValueError("DeLong needs both classes among the rows")
    aucs, v10, v01 = [], [], []
    for score in (score_a, score_b):
        x, y = score[positive], score[~positive]
        tx, ty, tz = _midranks(x), _midranks(y), _midranks(np.concatenate([x, y]))
        auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
        aucs.append(auc)
        v10.append((tz[:m] - tx) / n)
        v01.append(1.0 - (tz[m:] - ty) / m)
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    contrast = np.array([-1.0, 1.0])
    variance = float(contrast @ s10 @ contrast / m + contrast @ s01 @ contrast / n)
    se = float(np.sqrt(max(variance, 0.0)))
    diff = float(aucs[1] - aucs[0])
    z = z_value(confidence)
    return Interval(diff, diff - z * se, diff + z * se, se)


def auc(truth: NDArray[np.int_], score: Array) -> float:
    """Area under the ROC curve by midranks (ties count one half)."""
    positive = truth == 1
    m, n = int(positive.sum()), int((~positive).sum())
    ranks = _midranks(np.concatenate([score[positive], score[~positive]]))
    return float((ranks[:m].sum() - m * (m + 1) / 2) / (m * n))


def mcnemar_exact(a_right: NDArray[np.bool_], b_right: NDArray[np.bool_]) -> tuple[int, int, float]:
    """Discordant counts (only a right, only b right) and the exact two-sided McNemar p-value."""
    only_a = int(np.sum(a_right & ~b_right))
    only_b = int(np.sum(~a_right & b_right))
    if only_a + only_b == 0:
        return 0, 0, 1.0
    # Two-sided exact binomial test at p = 1/2: twice the smaller tail (the distribution is symmetric).
    from scipy import special

    p = min(1.0, 2 * float(special.bdtr(min(only_a, only_b), only_a + only_b, 0.5)))
    return only_a, only_b, p


def paired_proportion_difference(
    a_right: NDArray[np.bool_], b_right: NDArray[np.bool_], confidence: float
) -> Interval:
    """Accuracy(b) - accuracy(a) on the same rows, with the paired (Wald) interval."""
    n = a_right.size
    diff = float(np.mean(b_right) - np.mean(a_right))
    only_a = float(np.mean(a_right & ~b_right))
    only_b = float(np.mean(~a_right & b_right))
    se = float(np.sqrt(max(only_a + only_b - (only_b - only_a) ** 2, 0.0) / n))
    z = z_value(confidence)
    return Interval(diff, diff - z * se, diff + z * se, se)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def sorted_pair(a: Array, b: Array) -> tuple[Array, Array]:
    """Sorted copies of both arrays, sorted side by side (numpy sorts without holding the GIL)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(np.sort, (a, b))
    return first, second


def ks_statistic(a: Array, b: Array, chunk: int = 200_000, presorted: bool = False) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic p-value.

    The gap between the empirical CDFs is largest at a data point, and at the last of a run of
    equal values each CDF of its own sample is just its position: one binary search per point into
    the other sample (the two samples' searches side by side), in chunks, so memory stays at the two
    sorted copies. The p-value is scipy's ``ks_2samp(method="asymp")`` (the exact law of D at the
    effective size) below ``KS_LIMIT_FROM`` effective rows; from there the limiting law with
    Stephens' finite-size correction, within 1% of it (0.1% at 500,000). ``presorted`` skips
    sorting arrays the caller has sorted already.
    """
    if not presorted:
        a, b = sorted_pair(a, b)
    with ThreadPoolExecutor(max_workers=2) as pool:
        d = max(pool.map(_largest_gap, (a, b), (b, a), (chunk, chunk)))
    effective = round(a.size * b.size / (a.size + b.size))
    if effective >= KS_LIMIT_FROM:
        root = math.sqrt(effective)
        return d, float(np.clip(kolmogorov_sf((root + 0.12 + 0.11 / root) * d), 0.0, 1.0))
    from scipy.stats import kstwo  # only small samples pay for importing scipy.stats

    return d, float(np.clip(kstwo.sf(d, effective), 0.0, 1.0))


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for Kolmogorov's limiting distribution, to double precision.

    Two series of the same law, each used where it needs few terms: the theta-function form
    ``1 - sqrt(2 pi)/x sum exp(-(2k-1)^2 pi^2 / (8 x^2))`` below x = 1 and the alternating
    ``2 sum (-1)^(k-1) exp(-2 k^2 x^2)`` above it.
    """
    if x <= 0:
        return 1.0
    k = np.arange(1, 21)
    if x < 1:
        cdf = (
            math.sqrt(2 * math.pi) / x * float(np.sum(np.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8 * x * x))))
        )
        return 1.0 - cdf
    return float(2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k**2 * x * x)))


def _largest_gap(own: Array, other: Array, chunk: int) -> float:
    """The largest |F_own - F_other| at the points of ``own`` (both sorted, finite: NaN is no tie)."""
    d = 0.0
    for start in range(0, own.size, chunk):
        x = own[start : start + chunk]
        following = own[start + 1 : start + chunk + 1]
        last = np.ones(x.size, dtype=bool)  # the last point of each run of ties
        last[: following.size] = x[: following.size] != following
        position = np.arange(start + 1, start + x.size + 1)[last]
        gap = position / own.size - np.searchsorted(other, x[last], side="right") / other.size
        if gap.size:
            d = max(d, float(np.max(np.abs(gap))))
    return d


def psi(baseline: Array, candidate: Array, bins: int = 10, presorted: bool = False) -> float:
    """Population stability index of candidate vs baseline, bins at baseline quantiles.

    ``presorted``: both arrays are sorted, so bin counts are binary searches of the bin edges.
    """
    edges = np.unique(np.quantile(baseline, np.linspace(0, 1, bins + 1)))
    if edges.size < 2:
        return 0.0 if np.all(candidate == baseline[0]) else float("inf")
    inner = edges[1:-1]

    def counts(x: Array) -> NDArray[np.intp]:
        if presorted:
            return np.diff(np.concatenate([[0], np.searchsorted(x, inner, side="left"), [x.size]]))
        return np.bincount(np.searchsorted(inner, x, side="right"), minlength=edges.size - 1)

    expected, actual = counts(baseline), counts(candidate)
    # A small floor keeps an empty bin from making the index infinite.
    e = np.maximum(expected / baseline.size, 1e-4)
    a = np.maximum(actual / candidate.size, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def rows_to_settle(n: int, se: float, distance: float, confidence: float) -> int | None:
    """Rows an inconclusive interval would need to clear a boundary ``distance`` away (se ~ 1/√n)."""
    if not (np.isfinite(distance) and np.isfinite(se)) or distance <= 0 or se <= 0:
        return None
    needed = n * (z_value(confidence) * se / distance) ** 2
    return int(np.ceil(needed))


# Run-level statistics: the unit of replication is the run (or asv round); docs/design.md, statistics.


def mean_t(d: Array) -> tuple[float, float, int]:
    """Mean of paired differences with its standard error and degrees of freedom."""
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)), d.size - 1


def trimmed_mean_t(d: Array, trim: float = 0.2) -> tuple[float, float, int]:
    """Yuen's trimmed mean with its winsorised standard error and degrees of freedom.

    One run hit by a neighbour's burst of work moves a mean and inflates its spread; trimming the
    20% most extreme paired differences at each end keeps such runs from deciding the verdict.
    """
    n = d.size
    g = math.floor(trim * n)
    ordered = np.sort(d)
    kept = ordered[g : n - g]
    winsorised = np.clip(d, ordered[g], ordered[n - g - 1])
    h = kept.size
    se = float(np.std(winsorised, ddof=1) / ((h / n) * math.sqrt(n)))
    return float(kept.mean()), se, h - 2  # one fewer than Yuen: his test runs slightly liberal at small h


def welch(a: Array, b: Array) -> tuple[float, float, float]:
    """Difference of means ``b - a`` of unpaired samples, its standard error and Welch's df."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(math.sqrt(va + vb))
    df = (va + vb) ** 2 / ((va**2 / (a.size - 1)) + (vb**2 / (b.size - 1))) if se > 0 else a.size + b.size - 2
    return float(b.mean() - a.mean()), se, float(df)


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom."""
    from scipy import special

    return float(special.stdtrit(df, p))


def quantile_needs(q: float) -> int:
    """Fewest samples that say anything about the q-quantile: five beyond it (and 20 in all).

    With fewer, the sample quantile is one of the last few order statistics: its interval is not
    defined, and per-run values of it are too skewed for a t interval over runs."""
    return max(20, math.ceil(5 / (1 - q)))


def quantile_interval(sorted_values: Array, q: float, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval of the q-quantile from order statistics (binomial ranks)."""
    n = sorted_values.size
    lo_rank = _binomial_quantile((1 - confidence) / 2, n, q)
    hi_rank = _binomial_quantile(1 - (1 - confidence) / 2, n, q) + 1
    lo_rank, hi_rank = max(lo_rank, 1), min(hi_rank, n)
    return float(sorted_values[lo_rank - 1]), float(sorted_values[hi_rank - 1])


def _binomial_quantile(share: float, n: int, p: float) -> int:
    """The smallest k with P(Binomial(n, p) <= k) >= share."""
    from scipy import special

    k = max(math.ceil(float(special.bdtrik(share, n, p))), 0)
    while k > 0 and special.bdtr(k - 1, n, p) >= share:  # the inverse is continuous: step down to it
        k -= 1
    while k < n and special.bdtr(k, n, p) < share:
        k += 1
    return k


def relative_line_fit(x: Array, y: Array) -> tuple[float, float]:
    """``a, b`` of ``y = a + b x`` by least squares on relative errors (each point weighted 1/y),
    so every size counts, not only the largest."""
    weights = 1 / y
    design = np.column_stack([np.ones_like(x), x]) * weights[:, None]
    (a, b), *_ = np.linalg.lstsq(design, y * weights, rcond=None)
    return float(a), float(b)


def holm(p: Array) -> Array:
    """Holm's adjusted p-values: the k-th smallest of m times (m - k + 1), kept in order, at most 1."""
    order = np.argsort(p, kind="stable")
    steps = np.maximum.accumulate(np.minimum(1.0, (p.size - np.arange(p.size)) * p[order]))
    adjusted = np.empty(p.size)
    adjusted[order] = steps
    return adjusted


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    from scipy import special

    return 1.0 if k <= 0 else float(special.bdtrc(k - 1, n, p))
