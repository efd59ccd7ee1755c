"""Input checks: recorded request rows against the training features, as a shadow run checks them.

Per feature: values the model never saw (unseen categories; numbers outside the training range or
not numbers at all), the share of missing values (Fisher's exact test) and the distribution (category
frequencies by chi-square, numbers by two-sample KS).

The p-value tests of all features form one family, corrected by Holm's step-down method: twenty
features with two tests each would raise a false alarm in a third of clean shadow runs at α = 0.01,
and Holm keeps the family-wise rate at α whatever the tests' dependence, never less powerful than
Bonferroni. A test fails only when it is significant after the correction *and* its effect is
material (KS >= ``ks_warn``, Cramér's V >= 0.1, missing share 1 point): with thousands of requests a
trivial difference is significant, and a shadow run must flag what matters (docs/design.md,
statistics: minimum effects). Significant but smaller is a warn.

The two checks of values the model never saw follow the same idea. Unseen categories fail from 1% of
rows (fewer warn: a rare category the training sample happened to miss). Numbers outside the
training range warn only when there are more than a sample of the training data itself would give,
2 in n + 1 (order statistics), by a binomial tail at α split over the numeric features (Bonferroni);
a number that is no number at all fails.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlgate import stats
from mlgate.report import Finding, Status
from mlgate.report.model import FEATURE
from mlgate.report.numbers import percent, sig

Array = NDArray[np.float64]

KIND = "inputs"
MIN_TEST_VALUES = 20  # fewer values on a side: a distribution test could only miss
MIN_EXPECTED = 5  # chi-square's rule: every expected count at least 5, or its p-value is off
MIN_CRAMERS_V = 0.1  # Cohen's "small" effect
MIN_MISSING_CHANGE = 0.01  # one percentage point of rows
MIN_UNSEEN_SHARE = 0.01  # rows with categories never trained on: from this share they fail
EXAMPLES = 5  # example rows kept in details
NAMED = 3  # unseen values a message names
OTHER = "(other)"  # the bucket of categories too rare for chi-square on their own
LABELS = {
    "rows": "rows",
    "extra_columns": "extra columns",
    "column_present": "column present",
    "unseen_categories": "unseen categories",
    "out_of_range": "out of range",
    "missing_share": "missing share",
    "category_frequencies": "category frequencies",
    "distribution": "distribution",
}


@dataclass(frozen=True)
class _Test:
    """A p-value test of one feature, waiting for the Holm correction to get its status."""

    feature: str
    metric: str
    p: float
    effect: float  # compared with ``floor``: material when at least it
    floor: float
    said: str  # the effect as the message says it: "KS 0.31"
    floor_said: str  # "KS 0.1"
    details: dict[str, Any]
    baseline: float | None = None  # the training side's value, when the effect is a difference
    candidate: float | None = None

    def finding(self, adjusted: float, tests: int, alpha: float) -> Finding:
        significant = adjusted < alpha
        status: Status = "pass"
        verdict = "not significant"
        if significant and self.effect >= self.floor:
            status, verdict = "fail", f"significant and at least {self.floor_said}"
        elif significant:
            status, verdict = "warn", f"significant but below {self.floor_said}, too small to matter"
        return Finding(
            name=_name(self.feature, self.metric),
            kind=KIND,
            status=status,
            message=f"{self.said}, p = {_p(self.p)} (Holm-adjusted {_p(adjusted)} over {tests} "
            f"tests): {verdict}",
            metric=self.metric,
            baseline=self.baseline,
            candidate=self.candidate,
            change=self.effect
            if self.baseline is None or self.candidate is None
            else self.candidate - self.baseline,
            threshold=self.floor,
            details={
                FEATURE: self.feature,
                **self.details,
                "p_value": self.p,
                "p_adjusted": adjusted,
                "tests": tests,
                "alpha": alpha,
            },
        )


Item = Finding | _Test  # a finding, or a test that becomes one after the Holm correction


def input_checks(train: pd.DataFrame, traffic: pd.DataFrame, alpha: float, ks_warn: float) -> list[Finding]:
    """Findings of request rows (``traffic``) against the model's training features (``train``)."""
    if len(traffic) == 0 or len(train) == 0:
        side = "traffic" if len(traffic) == 0 else "training"
        return [
            Finding(
                name=_name("", "rows"),
                kind=KIND,
                status="skip",
                message=f"no {side} rows: nothing to check",
                metric="rows",
                details={"train_rows": len(train), "traffic_rows": len(traffic)},
            )
        ]
    items: list[Item] = []
    # The range checks' binomial tails, one per numeric feature: Bonferroni over those features.
    numeric = sum(1 for column in train.columns if column in traffic and not _is_categorical(train[column]))
    range_alpha = alpha / max(numeric, 1)
    for column in train.columns:
        feature = str(column)
        if column not in traffic.columns:
            message = f"the requests lack {feature}, a feature the model needs"
            items.append(_finding(feature, "column_present", "fail", message, {}))
        elif _is_categorical(train[column]):
            items.extend(_categorical(feature, train[column], traffic[column]))
        else:
            items.extend(_numeric(feature, train[column], traffic[column], ks_warn, range_alpha))
    tests = [item for item in items if isinstance(item, _Test)]
    adjusted = iter(stats.holm(np.array([test.p for test in tests], dtype=float)))
    findings = [
        item.finding(float(next(adjusted)), len(tests), alpha) if isinstance(item, _Test) else item
        for item in items
    ]
    extra = [str(column) for column in traffic.columns if column not in train.columns]
    if extra:
        shown = ", ".join(extra[:10]) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
        message = f"{len(extra)} request column(s) the model does not use, ignored: {shown}"
        findings.append(
            Finding(
                name=_name("", "extra_columns"),
                kind=KIND,
                status="warn",
                message=message,
                metric="extra_columns",
                details={"columns": extra},
            )
        )
    return findings


def _is_categorical(column: pd.Series[Any]) -> bool:
    # Booleans are numbers to pandas, but yes/no to the model.
    return pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column)


def _categorical(feature: str, train: pd.Series[Any], traffic: pd.Series[Any]) -> list[Item]:
    known = train.value_counts()
    known = known[known > 0]  # a category dtype lists levels that never occur
    try:
        sent = traffic.value_counts()
    except TypeError:  # a JSON array or object among the values: it counts as its text
        traffic = traffic.map(lambda value: value if isinstance(value, Hashable) else str(value))
        sent = traffic.value_counts()
    sent = sent[sent > 0]
    is_new = ~sent.index.isin(known.index)
    new_rows = np.flatnonzero((traffic.notna() & ~traffic.isin(known.index)).to_numpy())
    counts = sent[~is_new].reindex(known.index, fill_value=0)
    return [
        _unseen(feature, sent[is_new], new_rows, traffic, int(sent.sum())),
        _missing_share(feature, train.isna().to_numpy(), traffic.isna().to_numpy(), traffic.index),
        _frequencies(feature, [str(level) for level in known.index], known.to_numpy(), counts.to_numpy()),
    ]


def _numeric(
    feature: str, train: pd.Series[Any], traffic: pd.Series[Any], ks_warn: float, alpha: float
) -> list[Item]:
    reference = train.to_numpy(dtype=float, na_value=np.nan)
    values, unreadable = _numbers(traffic)
    seen, sent = reference[~np.isnan(reference)], values[~np.isnan(values)]
    items: list[Item] = [
        _range(feature, seen, values, unreadable, traffic, alpha),
        _missing_share(feature, np.isnan(reference), traffic.isna().to_numpy(), traffic.index),
    ]
    too_few = _too_few(feature, "distribution", seen.size, sent.size)
    if too_few is not None:
        return [*items, too_few]
    ks, p = stats.ks_statistic(seen, sent)
    said, floor_said = f"KS {sig(ks)}", f"KS {ks_warn:g}"
    sizes = {"train_values": int(seen.size), "traffic_values": int(sent.size), "ks": ks}
    return [*items, _Test(feature, "distribution", p, ks, ks_warn, said, floor_said, sizes)]


def _numbers(column: pd.Series[Any]) -> tuple[Array, NDArray[np.bool_]]:
    """The values as floats (NaN where missing or unreadable), and where a value was no number."""
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.to_numpy(dtype=float, na_value=np.nan)
    else:  # JSON with mixed things in it: strings, numbers, booleans, arrays
        try:
            numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):  # an array or an object among the values
            numbers = np.array([_number(value) for value in column], dtype=float)
    return numbers, np.isnan(numbers) & column.notna().to_numpy()


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _unseen(
    feature: str, new: pd.Series[Any], new_rows: NDArray[np.intp], traffic: pd.Series[Any], values: int
) -> Finding:
    rows = len(traffic)
    details: dict[str, Any] = {
        "rows": rows,
        "values": values,
        "unseen_rows": int(new_rows.size),
        "share": new_rows.size / rows,
        "distinct_unseen": int(new.size),
        "unseen_counts": {str(value): int(count) for value, count in new.head(EXAMPLES).items()},
        "examples": _examples(traffic, new_rows[:EXAMPLES]),
    }
    if new.empty:
        message = f"all {values:,} values were seen in training" if values else "no values: all missing"
        return _finding(feature, "unseen_categories", "pass", message, details, change=0.0)
    named = ", ".join(f"{_plain(value)!r} ({int(count):,})" for value, count in new.head(NAMED).items())
    more = f" and {new.size - NAMED} more" if new.size > NAMED else ""
    message = (
        f"{new_rows.size:,} of {rows:,} rows ({percent(details['share'])}) hold {new.size} value(s) "
        f"never seen in training: {named}{more}"
    )
    # A rare category the training sample missed is a fact to look at; a share the model gets wrong
    # often enough to matter is a flag (the same one-point floor as missing values).
    status: Status = "fail" if details["share"] >= MIN_UNSEEN_SHARE else "warn"
    if status == "warn":
        message += f"; below {percent(MIN_UNSEEN_SHARE)} of rows"
    return _finding(feature, "unseen_categories", status, message, details, change=details["share"])


def _range(
    feature: str,
    seen: Array,
    values: Array,
    unreadable: NDArray[np.bool_],
    traffic: pd.Series[Any],
    alpha: float,
) -> Finding:
    rows = len(traffic)
    bad = np.flatnonzero(unreadable)
    details: dict[str, Any] = {
        "rows": rows,
        "values": int(np.count_nonzero(~np.isnan(values))),
        "unreadable": int(bad.size),
        "unreadable_share": bad.size / rows,
        "unreadable_examples": _examples(traffic, bad[:EXAMPLES]),
    }
    unread = (
        f"{bad.size:,} of {rows:,} rows ({percent(bad.size / rows)}) not readable as numbers: "
        + ", ".join(repr(_plain(traffic.iloc[row])) for row in bad[:NAMED])
        + (f" and {bad.size - NAMED} more" if bad.size > NAMED else "")
        if bad.size
        else ""
    )
    if seen.size == 0:
        message = "; ".join(filter(None, ["no training values to take a range from", unread]))
        return _finding(feature, "out_of_range", "fail" if bad.size else "skip", message, details)
    low, high = float(seen.min()), float(seen.max())
    below, above = values < low, values > high  # NaN is neither
    beyond = np.where(below, low - values, np.where(above, values - high, 0.0))
    outside = np.flatnonzero(below | above)
    extreme = outside[np.argsort(-beyond[outside], kind="stable")[:EXAMPLES]]
    most = float(values[extreme[0]]) if extreme.size else None
    details.update(
        train_min=low,
        train_max=high,
        below=int(np.count_nonzero(below)),
        above=int(np.count_nonzero(above)),
        outside=int(outside.size),
        share=outside.size / rows,
        most_extreme=most,
        examples=[{"row": _plain(traffic.index[row]), "value": float(values[row])} for row in extreme],
    )
    span = f"the training range [{sig(low)}, {sig(high)}]"
    # A new draw from the training distribution falls beyond the min or max of n training values with
    # probability 2/(n + 1) (order statistics): that many outside is no news, more is (binomial tail).
    expected = 2 / (seen.size + 1)
    beyond_p = stats.binomial_upper_tail(outside.size, details["values"], expected)
    details.update(expected_share=expected, p_value=beyond_p)
    if most is not None:
        found = (
            f"{outside.size:,} of {rows:,} rows ({percent(outside.size / rows)}) outside {span}, "
            f"most extreme {sig(most)}; "
            + (
                f"more than the {percent(expected)} a sample of the training data would (p = {_p(beyond_p)})"
                if beyond_p < alpha
                else f"no more than a sample of the training data would ({percent(expected)})"
            )
        )
    else:
        found = f"all {details['values']:,} values within {span}"
    # A number the model cannot read is a fact, as an unseen category is; extrapolation may be fine.
    status: Status = "fail" if bad.size else "warn" if outside.size and beyond_p < alpha else "pass"
    message = "; ".join(filter(None, [unread, found]))
    return _finding(feature, "out_of_range", status, message, details, change=outside.size / rows)


def _missing_share(
    feature: str, train_missing: NDArray[np.bool_], traffic_missing: NDArray[np.bool_], index: pd.Index
) -> Item:
    """Fisher's exact test of the missing share; no test when neither side misses a value."""
    n_train, n_traffic = train_missing.size, traffic_missing.size
    k_train, k_traffic = int(train_missing.sum()), int(traffic_missing.sum())
    before, after = k_train / n_train, k_traffic / n_traffic
    details: dict[str, Any] = {
        "train_rows": n_train,
        "train_missing": k_train,
        "train_share": before,
        "traffic_rows": n_traffic,
        "traffic_missing": k_traffic,
        "traffic_share": after,
        "difference": after - before,
        "missing_rows": [_plain(index[row]) for row in np.flatnonzero(traffic_missing)[:EXAMPLES]],
    }
    if k_train == k_traffic == 0:
        message = "no missing values in training or traffic"
        return _finding(feature, "missing_share", "pass", message, details, change=0.0)
    from scipy.stats import fisher_exact  # scipy.stats takes half a second to import: only when needed

    table = [[k_train, n_train - k_train], [k_traffic, n_traffic - k_traffic]]
    p = float(fisher_exact(table, alternative="two-sided").pvalue)
    said = (
        f"missing {percent(before)} in training vs {percent(after)} in traffic "
        f"({sig((after - before) * 100, sign=True)} pt)"
    )
    effect, floor = abs(after - before), f"{MIN_MISSING_CHANGE * 100:g} pt"
    return _Test(feature, "missing_share", p, effect, MIN_MISSING_CHANGE, said, floor, details, before, after)


def _frequencies(
    feature: str, levels: list[str], train: NDArray[np.integer[Any]], traffic: NDArray[np.integer[Any]]
) -> Item:
    """Chi-square test of homogeneity over the training categories, rare ones pooled."""
    n_train, n_traffic = int(train.sum()), int(traffic.sum())
    too_few = _too_few(feature, "category_frequencies", n_train, n_traffic)
    if too_few is not None:
        return too_few
    totals = train + traffic
    # An expected count is a category's total times a side's share of all rows: the smaller side
    # decides which totals are too small.
    need = MIN_EXPECTED * (n_train + n_traffic) / min(n_train, n_traffic)
    pooled = totals < need
    kept = np.flatnonzero(~pooled)
    if pooled.any() and totals[pooled].sum() < need and kept.size:
        pooled[kept[np.argmin(totals[kept])]] = True  # the pooled bucket still too thin: add the next
    buckets = [level for level, rare in zip(levels, pooled, strict=True) if not rare]
    table = np.array([train[~pooled], traffic[~pooled]])
    if pooled.any():
        buckets.append(OTHER)
        table = np.column_stack([table, [train[pooled].sum(), traffic[pooled].sum()]])
    details: dict[str, Any] = {
        "train_values": n_train,
        "traffic_values": n_traffic,
        "buckets": buckets,
        "pooled": [level for level, rare in zip(levels, pooled, strict=True) if rare],
        "train_counts": dict(zip(buckets, (int(n) for n in table[0]), strict=True)),
        "traffic_counts": dict(zip(buckets, (int(n) for n in table[1]), strict=True)),
    }
    if len(buckets) < 2:
        message = (
            f"fewer than 2 categories with expected counts of {MIN_EXPECTED} or more: nothing to compare"
        )
        return _finding(feature, "category_frequencies", "skip", message, details)
    from scipy.stats import chi2_contingency  # scipy.stats takes half a second to import: only when needed

    result = chi2_contingency(table, correction=False)
    # Cramér's V of the two sides weighted equally (what equal-sized samples would give): the usual
    # chi2 / N shrinks with the size ratio, and traffic often outnumbers training a hundred to one.
    shares = table / table.sum(axis=1, keepdims=True)
    v = float(np.sqrt(0.5 * np.sum((shares[0] - shares[1]) ** 2 / (shares[0] + shares[1]))))
    details.update(chi2=float(result.statistic), dof=int(result.dof), cramers_v=v)
    said = f"Cramér's V {sig(v)} over {len(buckets)} categories (χ² {sig(float(result.statistic))})"
    p, floor = float(result.pvalue), f"V {MIN_CRAMERS_V:g}"
    return _Test(feature, "category_frequencies", p, v, MIN_CRAMERS_V, said, floor, details)


def _too_few(feature: str, metric: str, n_train: int, n_traffic: int) -> Finding | None:
    sizes = {"train_values": n_train, "traffic_values": n_traffic}
    if n_traffic < MIN_TEST_VALUES:
        return _finding(feature, metric, "skip", f"too few rows to test: {n_traffic}", sizes)
    if n_train < MIN_TEST_VALUES:
        return _finding(feature, metric, "skip", f"too few training rows to test: {n_train}", sizes)
    return None


def _finding(
    feature: str,
    metric: str,
    status: Status,
    message: str,
    details: dict[str, Any],
    change: float | None = None,
) -> Finding:
    return Finding(
        name=_name(feature, metric),
        kind=KIND,
        status=status,
        message=message,
        metric=metric,
        change=change,
        details={FEATURE: feature, **details} if feature else details,
    )


def _name(feature: str, metric: str) -> str:
    return " ".join(filter(None, ["input", feature, LABELS[metric]]))


def _examples(column: pd.Series[Any], rows: NDArray[np.intp]) -> list[dict[str, Any]]:
    """Values at positions ``rows``, each named by its index label (a replay's: the request)."""
    return [{"row": _plain(column.index[row]), "value": _plain(column.iloc[row])} for row in rows]


def _plain(value: Any) -> Any:
    """A value as JSON holds it: numpy scalars as Python ones, anything unusual as its text."""
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else f"{p:.2g}"


def distinct(rows: pd.DataFrame) -> pd.DataFrame:
    """Each record once: a load test cycles through its rows, and a row sent thirty times is one
    draw of the traffic's distribution, not thirty (docs/design.md, shadow replay)."""
    return rows[~rows.astype(str).duplicated()]
