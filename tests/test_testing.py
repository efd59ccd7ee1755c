"""mlgate.testing's assertions on their own (the plugin's tests run them inside pytest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.reference import ID_COLUMN, TARGET
from mlgate.testing import assert_same_predictions, gates


def test_predictions_as_frames_compare_by_position_and_leave_the_callers_frames_alone() -> None:
    a = pd.DataFrame({"prediction": [1.0, 2.0, 3.0]}, index=[10, 11, 12])
    b = pd.DataFrame({"prediction": [1.0, 2.0, 3.0]})
    assert_same_predictions(a, b)
    assert list(b.index) == [0, 1, 2]
    with pytest.raises(AssertionError, match="mlgate: predictions differ"):
        assert_same_predictions(a, np.array([1.0, 2.0, 3.5]))
    assert [g.verdict for g in gates[-2:]] == ["pass", "fail"]


def test_prediction_files_with_other_ids_fail_naming_them(tmp_path: Path) -> None:
    rows = pd.DataFrame({ID_COLUMN: [1, 2, 3, 4], TARGET: [1.0, 2.0, 3.0, 4.0]})
    for name, ids in (("a", [1, 2, 3]), ("b", [1, 2, 4])):
        pd.DataFrame({ID_COLUMN: ids, "prediction": [1.0, 2.0, 3.0]}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
    with pytest.raises(
        AssertionError, match=r"the ids differ: 1 only in a \(first \[3\]\), 1 only in b \(first \[4\]\)"
    ):
        assert_same_predictions(
            tmp_path / "a.csv", tmp_path / "b.csv", data=rows, spec="mlgate.reference:spec"
        )
    assert gates[-1].verdict == "fail"
