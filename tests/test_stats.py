"""The shared statistics against known values, scikit-learn/scipy, and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mlgate import stats
from mlgate.checks import quality
from mlgate.infra import threads
from mlgate.policy import DEFAULT


def test_wilson_matches_the_published_value() -> None:
    # 8 of 10 at 95%: (0.4902, 0.9433), e.g. Newcombe (1998), Table I.
    low, high = stats.wilson(8, 10, 0.95)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_mcnemar_exact_matches_the_binomial_by_hand() -> None:
    a_right = np.array([True] * 11 + [False] * 3 + [True] * 20)
    b_right = np.array([False] * 11 + [True] * 3 + [True] * 20)
    only_a, only_b, p = stats.mcnemar_exact(a_right, b_right)
    assert (only_a, only_b) == (11, 3)
    # 2 * P(X <= 3), X ~ Binomial(14, 1/2) = 2 * (1 + 14 + 91 + 364) / 2**14
    assert p == pytest.approx(2 * 470 / 16384, rel=1e-12)
    assert stats.mcnemar_exact(a_right, a_right) == (0, 0, 1.0)


def test_auc_matches_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 500)
    score = np.round(rng.normal(truth * 0.8, 1.0), 1)  # rounding makes ties
    assert stats.auc(truth, score) == pytest.approx(roc_auc_score(truth, score), abs=1e-12)


@pytest.mark.slow
def test_delong_standard_error_agrees_with_the_bootstrap() -> None:
    rng = np.random.default_rng(1)
    n = 1500
    truth = rng.integers(0, 2, n)
    latent = rng.normal(truth * 1.0, 1.0)
    a = latent + rng.normal(0, 0.6, n)
    b = latent + rng.normal(0, 0.8, n)
    delong = stats.delong(truth, a, b, 0.95)
    assert delong.estimate == pytest.approx(roc_auc_score(truth, b) - roc_auc_score(truth, a))
    boot = []
    for _ in range(400):
        idx = rng.integers(0, n, n)
        boot.append(roc_auc_score(truth[idx], b[idx]) - roc_auc_score(truth[idx], a[idx]))
    assert delong.se == pytest.approx(float(np.std(boot)), rel=0.15)


def test_delong_is_calibrated_under_the_null() -> None:
    rng = np.random.default_rng(2)
    rejections = 0
    trials = 400
    for _ in range(trials):
        truth = rng.integers(0, 2, 200)
        latent = rng.normal(truth * 1.0, 1.0)
        iv = stats.delong(truth, latent + rng.normal(0, 0.7, 200), latent + rng.normal(0, 0.7, 200), 0.95)
        rejections += iv.low > 0 or iv.high < 0
    low, high = stats.wilson(rejections, trials, 0.99)
    assert low <= 0.05 <= high


def test_bootstrap_of_a_mean_ratio_matches_the_delta_method() -> None:
    rng = np.random.default_rng(3)
    a = rng.exponential(1.0, 20_000)
    b = a * 1.05 + rng.exponential(0.1, 20_000)

    def ratio(sums: np.ndarray, _: np.ndarray) -> np.ndarray:
        return np.asarray(sums[1] / sums[0])

    iv = stats.paired_bootstrap([a, b], ratio, 0.95, resamples=2000, seed=0)
    r = b.mean() / a.mean()
    # Delta method for the ratio of two correlated means.
    grad = np.array([-r / a.mean(), 1 / a.mean()])
    se = float(np.sqrt(grad @ np.cov(np.vstack([a, b])) @ grad / a.size))
    assert iv.estimate == pytest.approx(r, rel=1e-12)
    assert iv.se == pytest.approx(se, rel=0.1)
    assert iv.low < r < iv.high


def test_psi_is_zero_for_the_same_sample_and_grows_with_shift() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(0, 1, 50_000)
    assert stats.psi(base, base) == 0.0
    small, large = stats.psi(base, base + 0.1), stats.psi(base, base + 1.0)
    assert 0 < small < 0.1 < 0.25 < large


def _quality_trial(seed: int, effect: float, n: int = 10_000) -> str:
    """Two models sharing most of their error (r about 0.89); the candidate's RMSE is (1+effect)x."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 3, n)
    shared = rng.normal(0, 1, n)
    base = y + shared + rng.normal(0, 0.35, n)
    cand = y + (1 + effect) * (shared + rng.normal(0, 0.35, n))
    estimate = quality.regression_estimates(y, base, cand, 1000, seed)[:1]  # RMSE
    return quality.judge(estimate, n, DEFAULT)[0].status


@pytest.mark.slow
def test_quality_rule_false_alarms_and_power_in_simulation() -> None:
    """Identical models with noise: <= 1% false alarms; RMSE +2% at 10,000 rows: >= 90% caught."""
    null = [_quality_trial(seed, 0.0) for seed in range(200)]
    alarms = null.count("fail")
    assert stats.wilson(alarms, len(null), 0.95)[0] <= 0.01
    assert alarms <= 2
    worse = [_quality_trial(10_000 + seed, 0.02) for seed in range(100)]
    caught = worse.count("fail")
    assert caught >= 90, f"power {caught}%"


def test_ks_matches_scipy() -> None:
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 3000), np.round(rng.normal(0.05, 1, 4500), 2)
    expected = ks_2samp(a, b, method="asymp")
    d, p = stats.ks_statistic(a, b, chunk=700)  # small chunks exercise the chunking
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


def test_ks_with_ties_on_both_sides_matches_scipy_and_presorted_is_the_same() -> None:
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(8)
    # few distinct values: runs of ties cross the chunk boundaries on both sides
    a, b = rng.integers(0, 40, 5000).astype(float), rng.integers(2, 42, 3001).astype(float)
    expected = ks_2samp(a, b, method="asymp")
    for chunk in (7, 1000, 200_000):
        d, p = stats.ks_statistic(a, b, chunk=chunk)
        assert d == pytest.approx(expected.statistic, abs=1e-12)
        assert p == pytest.approx(expected.pvalue, rel=1e-9)
    assert stats.ks_statistic(np.sort(a), np.sort(b), presorted=True) == stats.ks_statistic(a, b)


def test_psi_of_sorted_arrays_counts_the_same_bins() -> None:
    rng = np.random.default_rng(9)
    base, cand = rng.normal(0, 1, 20_000), np.round(rng.normal(0.2, 1.1, 15_000), 1)
    expected = stats.psi(base, cand)
    assert stats.psi(np.sort(base), np.sort(cand), presorted=True) == pytest.approx(expected, rel=1e-12)


def test_large_sample_ks_p_value_is_within_a_percent_of_scipy() -> None:
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 40_000), rng.normal(0.02, 1, 30_000)
    assert round(a.size * b.size / (a.size + b.size)) >= stats.KS_LIMIT_FROM  # the limiting-law path
    _, p = stats.ks_statistic(a, b)
    assert p == pytest.approx(ks_2samp(a, b, method="asymp").pvalue, rel=0.01)


def test_normal_quantile_and_kolmogorov_law_match_scipy_special() -> None:
    from scipy import special

    for confidence in (0.5, 0.9, 0.95, 0.99, 0.999, 1 - 3e-8):
        assert stats.z_value(confidence) == pytest.approx(special.ndtri(0.5 + confidence / 2), rel=1e-14)
    for x in np.concatenate([np.linspace(0.02, 4, 400), [0.999999, 1.0, 1.000001, 9.0]]):
        assert stats.kolmogorov_sf(float(x)) == pytest.approx(special.kolmogorov(x), rel=1e-12, abs=1e-300)
    assert stats.kolmogorov_sf(0.0) == 1.0


def test_scipy_special_forms_match_scipy_stats() -> None:
    """Ranks, binomial quantiles and McNemar's exact p-value without importing scipy.stats."""
    from scipy import stats as sps

    rng = np.random.default_rng(7)
    for _ in range(100):
        x = rng.integers(0, rng.integers(1, 30), size=rng.integers(1, 200)).astype(float)
        assert np.array_equal(stats._midranks(x), sps.rankdata(x))
    for _ in range(500):
        n, q = int(rng.integers(1, 20_000)), float(rng.uniform(0.01, 0.999))
        share = float(rng.choice([0.005, 0.025, 0.5, 0.975, 0.995]))
        assert stats._binomial_quantile(share, n, q) == int(sps.binom.ppf(share, n, q))
    for _ in range(200):
        a = rng.random(int(rng.integers(2, 300))) < 0.7
        b = rng.random(a.size) < rng.uniform(0.5, 0.9)
        only_a, only_b, p = stats.mcnemar_exact(a, b)
        if only_a + only_b:
            assert p == pytest.approx(sps.binomtest(only_b, only_a + only_b, 0.5).pvalue, rel=1e-9)


def test_one_resampling_shared_by_several_statistics_gives_their_own_intervals() -> None:
    rng = np.random.default_rng(12)
    a, b, c = rng.exponential(1.0, 30_000), rng.exponential(1.1, 30_000), rng.normal(0, 1, 30_000)

    def ratio(sums: np.ndarray, _: np.ndarray) -> np.ndarray:
        return np.asarray(sums[1] / sums[0] - 1)

    # One BLAS thread, as compare.run pins it: threads sum a matrix product in another order, and
    # the interval's last digit then depended on the number of columns resampled together.
    with threads.pinned():
        shared = stats.resample([c, a, b, c**2], resamples=500, seed=4).take([1, 2])
        alone = stats.resample([a, b], resamples=500, seed=4)
    assert stats.Bootstrap(shared, ratio, relative=True).interval(0.99) == stats.Bootstrap(
        alone, ratio, relative=True
    ).interval(0.99)


def test_a_ratio_of_zero_still_gets_an_interval() -> None:
    """A candidate with no error at all: RMSE ratio - 1 is -1, which has no log."""
    errors = np.random.default_rng(13).exponential(1.0, 500)

    def ratio(sums: np.ndarray, _: np.ndarray) -> np.ndarray:
        return np.asarray(sums[1] / sums[0] - 1)

    interval = stats.Bootstrap(stats.resample([errors, np.zeros(500)], 200), ratio, relative=True).interval(
        0.99
    )
    assert interval.estimate == -1 and interval.low <= -1 <= interval.high
