"""Input checks of recorded traffic against training features, on scikit-learn's wine data and ours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from mlgate import reference
from mlgate.checks.traffic_inputs import input_checks
from mlgate.report import Finding

ALPHA, KS_WARN = 0.01, 0.1
TESTS = {"missing_share", "category_frequencies", "distribution"}  # the checks with p-values


def wine_split(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wine's 13 numeric features plus a seeded categorical, split 118 train / 60 traffic rows."""
    frame = load_wine(as_frame=True).data
    rng = np.random.default_rng(seed)
    frame["region"] = rng.choice(["north", "south", "east", "west"], size=len(frame), p=[0.4, 0.3, 0.2, 0.1])
    frame.loc[rng.random(len(frame)) < 0.05, "region"] = None
    order = rng.permutation(len(frame))
    train = frame.iloc[order[:118]].reset_index(drop=True)
    return train, frame.iloc[order[118:]].reset_index(drop=True)


def houses() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Neighbourhood and living area of the reference house-price data: training and holdout rows."""
    names = {"Neighborhood": "neighbourhood", "GrLivArea": "living_area"}
    train, holdout = reference.train_frame(), reference.holdout_frame()
    return train[list(names)].rename(columns=names), holdout[list(names)].rename(columns=names)


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


def test_traffic_from_the_training_distribution_raises_nothing() -> None:
    train, traffic = wine_split()
    findings = input_checks(train, traffic, ALPHA, KS_WARN)
    assert not [f for f in findings if f.status == "fail"]
    tests = [f for f in findings if f.metric in TESTS and "p_value" in f.details]
    # 13 KS + chi-square of region + Fisher of region (the only column with missing values)
    assert len(tests) == 15 and {f.status for f in tests} == {"pass"}
    assert all("over 15 tests): not significant" in f.message for f in tests)
    found = by_name(findings)
    assert found["input region unseen categories"].status == "pass"
    assert found["input alcohol missing share"].message == "no missing values in training or traffic"
    # A random split puts some traffic rows beyond the training extremes, as many as order statistics
    # expect of a sample of the training data (2 in n + 1): no warning.
    ranges = [f for f in findings if f.metric == "out_of_range"]
    assert {f.status for f in ranges} == {"pass"} and any(f.details["outside"] for f in ranges)


def test_drift_is_named_unseen_values_fail_and_a_shift_fails() -> None:
    train, traffic = wine_split()
    traffic.loc[:8, "region"] = "Mars"  # 9 of 60 rows
    traffic["alcohol"] *= 1.3
    found = by_name(input_checks(train, traffic, ALPHA, KS_WARN))
    unseen = found["input region unseen categories"]
    assert unseen.status == "fail"
    assert "9 of 60 rows (15.0%)" in unseen.message and "'Mars' (9)" in unseen.message
    assert unseen.details["unseen_counts"] == {"Mars": 9} and unseen.details["examples"][0] == {
        "row": 0,
        "value": "Mars",
    }
    shifted = found["input alcohol distribution"]
    assert shifted.status == "fail" and "significant and at least KS 0.1" in shifted.message
    assert shifted.details["ks"] >= 0.9 and shifted.details["p_adjusted"] < ALPHA
    outside = found["input alcohol out of range"]
    assert outside.status == "warn" and "outside the training range" in outside.message
    assert outside.details["most_extreme"] == pytest.approx(traffic["alcohol"].max())
    assert found["input magnesium distribution"].status == "pass"


def test_a_jump_in_missing_values_fails_fishers_test() -> None:
    train, traffic = wine_split()
    traffic.loc[:11, "magnesium"] = np.nan  # 12 of 60 rows, none in training
    finding = by_name(input_checks(train, traffic, ALPHA, KS_WARN))["input magnesium missing share"]
    assert finding.status == "fail"
    assert finding.message.startswith("missing 0% in training vs 20.0% in traffic (+20.0 pt), p = ")
    assert finding.details["traffic_missing"] == 12 and finding.details["missing_rows"] == [0, 1, 2, 3, 4]
    assert finding.details["p_adjusted"] == pytest.approx(16 * finding.details["p_value"])


def test_house_traffic_passes_and_its_drift_is_caught() -> None:
    train, traffic = houses()
    findings = input_checks(train, traffic, ALPHA, KS_WARN)
    assert [f.status for f in findings if f.metric in TESTS] == ["pass"] * 4
    frequencies = by_name(findings)["input neighbourhood category frequencies"]
    assert frequencies.details["pooled"] == ["NPkVill", "Blueste"]  # too rare for chi-square alone
    assert "(other)" in frequencies.details["buckets"]

    drifted = traffic.copy()
    others = np.flatnonzero(drifted["neighbourhood"].to_numpy() != "NAmes")
    doubled = round(0.15 * len(drifted))  # NAmes from about 15% of rows to about 30%
    drifted.loc[others[:doubled], "neighbourhood"] = "NAmes"
    drifted.loc[others[doubled : doubled + 30], "neighbourhood"] = "Atlantis"
    drifted["living_area"] *= 1.3
    found = by_name(input_checks(train, drifted, ALPHA, KS_WARN))
    frequencies = found["input neighbourhood category frequencies"]
    assert frequencies.status == "fail" and "significant and at least V 0.1" in frequencies.message
    assert frequencies.details["cramers_v"] >= 0.1
    unseen = found["input neighbourhood unseen categories"]
    assert unseen.status == "fail" and "'Atlantis' (30)" in unseen.message
    assert found["input living_area distribution"].status == "fail"
    # x1.3 moves few houses past the largest one trained: no more than chance would, so no warning.
    assert found["input living_area out of range"].status == "pass"


def test_a_rare_unseen_category_warns_and_a_common_one_fails() -> None:
    """A category the training sample missed by chance (the reference holdout holds two 'Shed' roofs
    that training never saw) is worth a look; from 1% of rows it is a flag."""
    train, traffic = houses()
    rare = traffic.copy()
    rare.loc[rare.index[:3], "neighbourhood"] = "Atlantis"  # 3 rows, under 1%
    finding = by_name(input_checks(train, rare, ALPHA, KS_WARN))["input neighbourhood unseen categories"]
    assert finding.status == "warn" and finding.message.endswith("; below 1.00% of rows")
    common = traffic.copy()
    common.loc[common.index[: len(common) // 50], "neighbourhood"] = "Atlantis"  # 2% of rows
    found = by_name(input_checks(train, common, ALPHA, KS_WARN))["input neighbourhood unseen categories"]
    assert found.status == "fail"


def test_significant_but_small_differences_only_warn() -> None:
    n = 100_000
    grid = (np.arange(n) + 0.5) / n
    levels = np.array(["a", "b", "c"])
    train = pd.DataFrame(
        {
            "x": grid,
            "level": np.repeat(levels, [20_000, 40_000, 40_000]),
            "y": np.where(np.arange(n) < 1000, np.nan, grid),  # 1.0% missing
        }
    )
    traffic = pd.DataFrame(
        {
            "x": grid + 0.03,  # KS 0.03
            "level": np.repeat(levels, [21_500, 39_250, 39_250]),  # 20% -> 21.5%
            "y": np.where(np.arange(n) < 1500, np.nan, grid),  # 1.5% missing
        }
    )
    found = by_name(input_checks(train, traffic, ALPHA, KS_WARN))
    for name, floor in [
        ("input x distribution", "KS 0.1"),
        ("input level category frequencies", "V 0.1"),
        ("input y missing share", "1 pt"),
    ]:
        finding = found[name]
        assert finding.status == "warn", finding.message
        assert finding.details["p_adjusted"] < 1e-10
        assert finding.message.endswith(f"significant but below {floor}, too small to matter")


def test_holm_keeps_weak_p_values_from_all_failing() -> None:
    grid = (np.arange(200) + 0.5) / 200
    train = pd.DataFrame({f"x{i}": grid for i in range(6)})
    traffic = pd.DataFrame({f"x{i}": grid + 0.1775 for i in range(6)})  # KS 0.18, p about 0.003
    findings = [f for f in input_checks(train, traffic, ALPHA, KS_WARN) if f.metric == "distribution"]
    assert len(findings) == 6
    for finding in findings:
        assert finding.details["p_value"] < ALPHA <= finding.details["p_adjusted"]
        assert finding.status == "pass" and "over 6 tests): not significant" in finding.message
    # The same feature alone is a family of one: significant, and a KS of 0.18 is material.
    (alone,) = [
        f for f in input_checks(train[["x0"]], traffic[["x0"]], ALPHA, KS_WARN) if f.metric == "distribution"
    ]
    assert alone.status == "fail" and alone.details["p_adjusted"] == alone.details["p_value"]


def test_missing_and_extra_columns_and_empty_traffic() -> None:
    train, traffic = wine_split()
    traffic = traffic.drop(columns=["hue"]).assign(request_id=range(len(traffic)), channel="web")
    found = by_name(input_checks(train, traffic, ALPHA, KS_WARN))
    missing = found["input hue column present"]
    assert missing.status == "fail" and missing.message == "the requests lack hue, a feature the model needs"
    extra = found["input extra columns"]
    assert extra.status == "warn" and extra.details["columns"] == ["request_id", "channel"]
    assert extra.message.endswith("ignored: request_id, channel")
    assert "input hue distribution" not in found

    (empty,) = input_checks(train, traffic.iloc[:0], ALPHA, KS_WARN)
    assert empty.status == "skip" and empty.message == "no traffic rows: nothing to check"


def test_few_rows_skip_the_distribution_tests_but_not_the_range() -> None:
    train, traffic = wine_split()
    found = by_name(input_checks(train, traffic.head(10), ALPHA, KS_WARN))
    for name in ("input alcohol distribution", "input region category frequencies"):
        assert found[name].status == "skip" and found[name].message.startswith("too few rows to test: ")
    assert found["input alcohol distribution"].message == "too few rows to test: 10"
    assert found["input alcohol out of range"].status in {"pass", "warn"}
    assert found["input region unseen categories"].status == "pass"


def test_unreadable_numbers_are_counted_and_fail() -> None:
    train, traffic = wine_split()
    sent = traffic["alcohol"].astype(object)
    sent[[3, 7, 9]] = ["n/a", "12,5", {"value": 13}]
    sent[11] = "13.2"  # a number sent as text is still a number
    sent[12] = None
    traffic["alcohol"] = sent
    finding = by_name(input_checks(train, traffic, ALPHA, KS_WARN))["input alcohol out of range"]
    assert finding.status == "fail"
    assert finding.message.startswith("3 of 60 rows (5.00%) not readable as numbers: 'n/a', '12,5', ")
    assert finding.details["unreadable"] == 3 and finding.details["values"] == 56
    assert [e["row"] for e in finding.details["unreadable_examples"]] == [3, 7, 9]


def test_a_json_array_among_categories_is_an_unseen_value() -> None:
    train, traffic = wine_split()
    region = traffic["region"].astype(object)
    region[5] = ["north"]
    traffic["region"] = region
    finding = by_name(input_checks(train, traffic, ALPHA, KS_WARN))["input region unseen categories"]
    assert finding.status == "fail" and "\"['north']\" (1)" in finding.message
    assert finding.details["examples"] == [{"row": 5, "value": "['north']"}]
