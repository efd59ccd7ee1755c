"""Data tables (CSV, Parquet): read, write, and check against a model's input schema."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate.infra import atomic
from mlgate.infra.errors import MlgateError, first_line

SUFFIXES = (".csv", ".parquet", ".pq")
MAX_WHOLE = 2.0**63  # a float this large overflows the cast to int64 (numpy gives garbage, not an error)


def read_table(path: Path, flag: str = "--data") -> pd.DataFrame:
    """Read CSV or Parquet; only an empty CSV cell is missing (so a level named "None" survives)."""
    if not atomic.check_path(path, flag).exists():
        raise MlgateError(f"{flag}: file {path} does not exist; check the path")
    if path.is_dir():
        raise MlgateError(f"{flag}: {path} is a folder; give a .csv or .parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            # pandas would read "None", "NA", "null" ... as missing: only blanks mean missing here.
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise MlgateError(f"{flag}: {path} has suffix {suffix or '(none)'!r}; use .csv or .parquet")
    except MlgateError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise MlgateError(f"{flag}: {path} is empty; give a file with a header and rows") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise MlgateError(
            f"{flag}: cannot read {path} ({first_line(exc)}); check that it is valid {suffix[1:].upper()}"
        ) from exc
    if frame.empty:
        raise MlgateError(f"{flag}: {path} has no rows; give a file with at least one row")
    return frame


def write_table(frame: pd.DataFrame, path: Path, flag: str = "--out") -> None:
    """Write CSV or Parquet by suffix, atomically."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MlgateError(f"{flag}: {path} has suffix {suffix or '(none)'!r}; use .csv or .parquet")
    if suffix == ".csv":
        # Full float precision so a CSV round trip keeps predictions bit-exact.
        atomic.write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.17g"), flag)
    else:
        atomic.write_with(path, lambda tmp: frame.to_parquet(tmp, index=False), flag)


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts ready for JSON: missing values become None (null), not NaN."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): v for k, v in row.items()} for row in rows]


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of a frame (column names, order and values), independent of file format."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def infer_schema(features: pd.DataFrame) -> list[dict[str, Any]]:
    """The input schema recorded at training: column, kind (integer/number/string), nullable, and
    the range of numbers."""
    schema = []
    for name, column in features.items():
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
            kind = "integer"
        elif pd.api.types.is_float_dtype(column):
            # A float column whose values are whole numbers with gaps is still a count or a year.
            kind = "number"
        elif pd.api.types.is_numeric_dtype(column):
            kind = "number"
        else:
            kind = "string"
        entry: dict[str, Any] = {"name": str(name), "kind": kind, "nullable": bool(column.isna().any())}
        if kind != "string" and column.notna().any():
            # The served API accepts values near the training range (docs/design.md, "serving").
            low, high = column.min(), column.max()
            entry.update(min=_plain(low), max=_plain(high))
        schema.append(entry)
    return schema


def _plain(value: Any) -> int | float:
    """A numpy/pandas scalar as a JSON number (int stays int)."""
    return int(value) if float(value).is_integer() and abs(float(value)) < 2**53 else float(value)


def conform(frame: pd.DataFrame, schema: list[dict[str, Any]], source: str) -> pd.DataFrame:
    """Select and order the schema's columns and give them the trained dtypes, or say what is wrong.

    Extra columns are dropped (an id or target column is expected there); a column in another
    order is fine. Missing columns and values that cannot be the trained kind are errors.
    """
    names = [col["name"] for col in schema]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise MlgateError(
            f"{source}: missing column(s) {shown}; the model was trained with them, add them to the data"
        )
    out = {}
    for col in schema:
        out[col["name"]] = _coerce(frame[col["name"]], col, source)
    return pd.DataFrame(out, index=frame.index)


def _coerce(values: pd.Series, col: dict[str, Any], source: str) -> pd.Series:
    name, kind = col["name"], col["kind"]
    if kind == "string":
        result = values.astype("str")
        return result.where(values.notna(), np.nan)
    if pd.api.types.is_bool_dtype(values):
        values = values.astype(np.int64)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        example = values[bad].iloc[0]
        raise MlgateError(
            f"{source}: column {name!r} must be numeric ({kind}) but holds "
            f"{example!r} in {int(bad.sum())} row(s); fix or blank those values"
        )
    if kind != "integer":
        return numbers.astype(np.float64)
    floats = numbers.to_numpy(dtype=float)
    infinite = np.isinf(floats)
    if infinite.any():
        raise MlgateError(
            f"{source}: column {name!r} holds a non-finite value ({float(floats[infinite][0])}) in "
            f"{int(infinite.sum())} row(s); it must hold whole numbers, fix or blank those values"
        )
    if not pd.api.types.is_integer_dtype(numbers) and np.nanmax(np.abs(floats), initial=0) >= MAX_WHOLE:
        raise MlgateError(
            f"{source}: column {name!r} holds {np.nanmax(np.abs(floats)):g}, beyond what a whole "
            "number (64-bit) can hold; fix those values"
        )
    if not numbers.isna().any():
        if not np.all(np.mod(floats, 1) == 0):
            raise MlgateError(f"{source}: column {name!r} must hold whole numbers; fix the fractional values")
        return numbers.astype(np.int64)
    return numbers.astype(np.float64)
