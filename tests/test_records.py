"""Request parsing: the column-at-once path accepts exactly what the record-by-record path accepts,
and builds the same columns, on thousands of mutated requests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlgate.serving import records
from mlgate.serving.records import Field, InvalidRecords

FIELDS = [
    Field("rooms", "integer", nullable=False, low=1, high=40),
    Field("floors", "integer", nullable=True, low=-5, high=9),
    Field("area", "number", nullable=False, above_zero=True, high=1e6),
    Field("slope", "number", nullable=True, below_zero=True),
    Field("any", "number", nullable=True),
    Field("count", "integer", nullable=False, low=records.INT64[0], high=records.INT64[1]),
    Field("zone", "string", nullable=False),
    Field("roof", "string", nullable=True),
]
ALLOWED = {f.name for f in FIELDS} | {"Id", "label"}
ODD = [None, "x", "", True, False, 3.5, 2.0, 0, -1, 1e300, -1e300, 2**53 + 1, 2**63, -(2**63) - 1, 41, [], {}]


def valid(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "Id": int(rng.integers(1e6)),
        "rooms": int(rng.integers(1, 41)),
        "floors": None if rng.random() < 0.3 else int(rng.integers(-5, 10)),
        "area": float(rng.uniform(1, 1e6)),
        "slope": None if rng.random() < 0.3 else -float(rng.uniform(0.1, 3)),
        "any": float(rng.normal()),
        "count": int(rng.integers(-(2**40), 2**40)),
        "zone": str(rng.choice(["RL", "RM", "FV"])),
        "roof": None if rng.random() < 0.3 else "Gable",
    }


def mutated(rng: np.random.Generator, size: int) -> list[Any]:
    batch: list[Any] = [valid(rng) for _ in range(size)]
    for _ in range(int(rng.integers(0, 3))):
        record = batch[int(rng.integers(size))]
        if not isinstance(record, dict):
            continue
        roll = rng.random()
        if roll < 0.1:
            record.pop(str(rng.choice(sorted(record))))
        elif roll < 0.15:
            record["unknown"] = 1
        elif roll < 0.2:
            batch[int(rng.integers(size))] = "not a record"
        else:
            record[str(rng.choice([f.name for f in FIELDS]))] = ODD[int(rng.integers(len(ODD)))]
    return batch


def test_both_paths_accept_the_same_records_and_build_the_same_columns() -> None:
    rng = np.random.default_rng(7)
    layout = records.Layout.of(FIELDS)
    accepted_fast = 0
    for trial in range(3000):
        batch = mutated(rng, int(rng.integers(1, 6)))
        fast = records.fast_columns(batch, layout, ALLOWED, "Id")
        try:
            exact = records.checked_columns(batch, FIELDS, ALLOWED, "Id")
        except InvalidRecords:
            assert fast is None, (trial, batch)
            continue
        big = any(
            isinstance(r, dict) and isinstance(v, (int, float)) and abs(v) >= 2**53
            for r in batch
            for v in r.values()
        )
        if fast is None:
            assert big, (trial, batch)  # only values float64 cannot hold exactly take the slow path
            continue
        accepted_fast += 1
        assert fast[1] == exact[1]
        for mine, theirs in zip(fast[0], exact[0], strict=True):
            assert mine.dtype == theirs.dtype and mine.flags.c_contiguous
            if mine.dtype == object:  # missing strings are the very np.nan object in both
                assert mine.tolist() == theirs.tolist()
            else:
                np.testing.assert_array_equal(mine, theirs)
    assert accepted_fast > 1000  # most batches are valid: the fast path is the one that ran


@pytest.mark.parametrize("value", [None, "2", True, 1.5, 41, 0])
def test_a_bad_value_is_named_with_its_record_and_field(value: Any) -> None:
    rng = np.random.default_rng(1)
    batch = [valid(rng) for _ in range(3)]
    batch[2]["rooms"] = value
    body = records.orjson.dumps({"records": batch})
    with pytest.raises(InvalidRecords) as caught:
        records.parse_records(body, records.Layout.of(FIELDS), "Id", "label", 10)
    assert caught.value.problems[0]["loc"] == ["body", "records", 2, "rooms"]
