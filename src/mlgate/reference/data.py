"""Seeded, offline generator of Ames-style house-price data (the reference model's data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Ames has 1,460 training and 1,459 test rows; we keep the same default split.
TRAIN_ROWS = 1460
HOLDOUT_ROWS = 1459
ID_COLUMN = "Id"
TARGET = "SalePrice"

QUALITY = ("Ex", "Gd", "TA", "Fa", "Po")
_QUALITY_SCORE = {"Ex": 2.0, "Gd": 1.0, "TA": 0.0, "Fa": -1.0, "Po": -2.0}

# (levels, probabilities, effect on log price). Small probabilities are the rare levels.
NEIGHBORHOODS = {
    "NAmes": (0.150, -0.05),
    "CollgCr": (0.103, 0.05),
    "OldTown": (0.077, -0.12),
    "Edwards": (0.068, -0.10),
    "Somerst": (0.059, 0.10),
    "Gilbert": (0.054, 0.04),
    "NridgHt": (0.053, 0.22),
    "Sawyer": (0.050, -0.06),
    "NWAmes": (0.050, 0.02),
    "SawyerW": (0.040, 0.02),
    "BrkSide": (0.040, -0.14),
    "Crawfor": (0.035, 0.06),
    "Mitchel": (0.034, -0.02),
    "NoRidge": (0.028, 0.25),
    "Timber": (0.026, 0.12),
    "IDOTRR": (0.025, -0.25),
    "ClearCr": (0.019, 0.08),
    "StoneBr": (0.017, 0.24),
    "SWISU": (0.017, -0.08),
    "MeadowV": (0.012, -0.22),
    "Blmngtn": (0.012, 0.06),
    "BrDale": (0.011, -0.18),
    "Veenker": (0.008, 0.12),
    "NPkVill": (0.006, 0.00),
    "Blueste": (0.002, -0.04),
}
NOMINAL: dict[str, dict[str, tuple[float, float]]] = {
    "MSZoning": {
        "RL": (0.788, 0.03),
        "RM": (0.150, -0.08),
        "FV": (0.044, 0.06),
        "RH": (0.011, -0.05),
        "C (all)": (0.007, -0.30),
    },
    "Street": {"Pave": (0.996, 0.0), "Grvl": (0.004, -0.10)},
    "LotShape": {
        "Reg": (0.634, -0.02),
        "IR1": (0.331, 0.02),
        "IR2": (0.028, 0.04),
        "IR3": (0.007, 0.0),
    },
    "LandContour": {
        "Lvl": (0.898, 0.0),
        "Bnk": (0.043, -0.06),
        "HLS": (0.034, 0.05),
        "Low": (0.025, 0.0),
    },
    "Condition1": {
        "Norm": (0.863, 0.01),
        "Feedr": (0.055, -0.06),
        "Artery": (0.033, -0.08),
        "RRAn": (0.018, -0.02),
        "PosN": (0.013, 0.05),
        "RRAe": (0.008, -0.06),
        "PosA": (0.006, 0.06),
        "RRNn": (0.003, 0.0),
        "RRNe": (0.001, 0.0),
    },
    "BldgType": {
        "1Fam": (0.836, 0.02),
        "TwnhsE": (0.078, 0.0),
        "Duplex": (0.036, -0.10),
        "Twnhs": (0.029, -0.08),
        "2fmCon": (0.021, -0.10),
    },
    "HouseStyle": {
        "1Story": (0.497, 0.0),
        "2Story": (0.305, 0.02),
        "1.5Fin": (0.106, -0.04),
        "SLvl": (0.045, 0.0),
        "SFoyer": (0.025, -0.03),
        "1.5Unf": (0.010, -0.06),
        "2.5Unf": (0.008, 0.0),
        "2.5Fin": (0.005, 0.04),
    },
    "RoofStyle": {
        "Gable": (0.781, 0.0),
        "Hip": (0.196, 0.04),
        "Flat": (0.009, 0.02),
        "Gambrel": (0.008, -0.02),
        "Mansard": (0.005, 0.0),
        "Shed": (0.001, 0.0),
    },
    "Exterior1st": {
        "VinylSd": (0.353, 0.03),
        "HdBoard": (0.152, -0.02),
        "MetalSd": (0.151, -0.03),
        "Wd Sdng": (0.141, -0.04),
        "Plywood": (0.074, 0.0),
        "CemntBd": (0.042, 0.06),
        "BrkFace": (0.034, 0.03),
        "WdShing": (0.018, -0.02),
        "Stucco": (0.017, 0.0),
        "AsbShng": (0.014, -0.10),
        "BrkComm": (0.002, 0.0),
        "Stone": (0.001, 0.0),
        "AsphShn": (0.001, 0.0),
    },
    # "None" is a real level here, as in Ames: naive CSV readers turn it into a missing value.
    "MasVnrType": {
        "None": (0.594, -0.02),
        "BrkFace": (0.305, 0.02),
        "Stone": (0.088, 0.08),
        "BrkCmn": (0.013, -0.02),
    },
    "Foundation": {
        "PConc": (0.443, 0.06),
        "CBlock": (0.434, -0.02),
        "BrkTil": (0.100, -0.06),
        "Slab": (0.016, -0.10),
        "Stone": (0.004, 0.0),
        "Wood": (0.003, 0.0),
    },
    "CentralAir": {"Y": (0.935, 0.06), "N": (0.065, -0.12)},
    "PavedDrive": {"Y": (0.918, 0.02), "N": (0.062, -0.06), "P": (0.020, -0.02)},
    "SaleType": {
        "WD": (0.868, 0.0),
        "New": (0.083, 0.06),
        "COD": (0.030, -0.06),
        "ConLD": (0.006, 0.0),
        "ConLI": (0.003, 0.0),
        "ConLw": (0.003, 0.0),
        "CWD": (0.003, 0.0),
        "Oth": (0.002, 0.0),
        "Con": (0.002, 0.0),
    },
    "SaleCondition": {
        "Normal": (0.821, 0.0),
        "Partial": (0.086, 0.05),
        "Abnorml": (0.069, -0.08),
        "Family": (0.014, -0.04),
        "Alloca": (0.008, 0.0),
        "AdjLand": (0.003, -0.05),
    },
}
GARAGE_TYPES = {
    "Attchd": 0.63,
    "Detchd": 0.28,
    "BuiltIn": 0.064,
    "Basment": 0.014,
    "CarPort": 0.007,
    "2Types": 0.005,
}
# Columns that get a few scattered missing values, as the Ames test set has.
SCATTERED_MISSING = ("MSZoning", "Exterior1st", "KitchenQual", "SaleType")


def _levels(
    rng: np.random.Generator, table: dict[str, tuple[float, float]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    names = np.array(list(table), dtype=object)
    probs = np.array([p for p, _ in table.values()])
    effects = np.array([e for _, e in table.values()])
    idx = rng.choice(len(names), size=n, p=probs / probs.sum())
    return names[idx], effects[idx]


def _only_where(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``keep``, else missing (None, for object columns)."""
    return np.where(keep, values, np.array(None, dtype=object))


def _grade(rng: np.random.Generator, centre: np.ndarray, spread: float = 0.7) -> np.ndarray:
    """Quality grade strings around a latent score (2 = Ex ... -2 = Po)."""
    score = np.clip(np.rint(centre + rng.normal(0.0, spread, centre.size)), -2, 2).astype(int)
    grades: np.ndarray = np.array(QUALITY, dtype=object)[2 - score]
    return grades


def generate(n_rows: int, seed: int = 0, first_id: int = 1) -> pd.DataFrame:
    """Make ``n_rows`` Ames-style houses with ``SalePrice``; the same seed gives the same frame."""
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    rng = np.random.default_rng(seed)
    n = n_rows
    out: dict[str, np.ndarray] = {ID_COLUMN: np.arange(first_id, first_id + n, dtype=np.int64)}
    log_price = np.full(n, 11.85)

    nbhd, nbhd_eff = _levels(rng, NEIGHBORHOODS, n)
    out["MSSubClass"] = rng.choice(
        [20, 60, 50, 120, 30, 160, 70, 80, 90, 190, 85, 75, 45, 180, 40],
        size=n,
        p=[
            0.367,
            0.205,
            0.099,
            0.060,
            0.047,
            0.043,
            0.041,
            0.040,
            0.036,
            0.021,
            0.014,
            0.011,
            0.008,
            0.007,
            0.001,
        ],
    ).astype(np.int64)
    nominal_effects = np.zeros(n)
    for col, table in NOMINAL.items():
        out[col], eff = _levels(rng, table, n)
        nominal_effects += eff
    out["Neighborhood"] = nbhd
    log_price += nbhd_eff + nominal_effects

    qual = np.clip(np.rint(6.1 + 2.5 * nbhd_eff * 4 + rng.normal(0, 1.3, n)), 1, 10).astype(np.int64)
    out["OverallQual"] = qual
    out["OverallCond"] = np.clip(np.rint(rng.normal(5.6, 1.1, n)), 1, 9).astype(np.int64)
    yr_sold = rng.integers(2006, 2011, n)
    age = np.clip(rng.gamma(1.6, 24.0, n) - 4 * (qual - 6), 0, 135).astype(np.int64)
    year_built = yr_sold - age
    remod_gap = np.where(rng.random(n) < 0.48, 0, rng.integers(0, 60, n))
    year_remod = np.minimum(np.maximum(year_built + remod_gap, 1950), yr_sold)
    out["YearBuilt"] = year_built.astype(np.int64)
    out["YearRemodAdd"] = year_remod.astype(np.int64)
    out["MoSold"] = rng.choice(
        np.arange(1, 13), size=n, p=np.array([4, 5, 7, 10, 14, 17, 16, 9, 6, 6, 4, 2]) / 100
    ).astype(np.int64)
    out["YrSold"] = yr_sold.astype(np.int64)

    lot_area = np.exp(rng.normal(9.1, 0.5, n)).round().astype(np.int64)
    out["LotArea"] = lot_area
    frontage = np.clip(np.sqrt(lot_area) * rng.normal(0.68, 0.12, n), 21, 313).round()
    out["LotFrontage"] = np.where(rng.random(n) < 0.177, np.nan, frontage)  # missing at random

    gr_liv = np.exp(rng.normal(7.27 + 0.06 * (qual - 6), 0.28, n)).round().astype(np.int64)
    out["GrLivArea"] = gr_liv
    rooms = np.clip(np.rint(gr_liv / 230 + rng.normal(0, 0.8, n)), 2, 14).astype(np.int64)
    out["TotRmsAbvGrd"] = rooms
    out["BedroomAbvGr"] = np.clip(np.rint(rooms * 0.45 + rng.normal(0, 0.5, n)), 0, 8).astype(np.int64)
    out["FullBath"] = np.clip(np.rint(gr_liv / 900 + rng.normal(0, 0.4, n)), 0, 3).astype(np.int64)
    out["HalfBath"] = (rng.random(n) < 0.37).astype(np.int64)
    out["KitchenAbvGr"] = np.where(rng.random(n) < 0.95, 1, 2).astype(np.int64)

    qual_centre = (qual - 6) / 2.0
    out["ExterQual"] = _grade(rng, qual_centre - 0.3, 0.5)
    out["ExterCond"] = _grade(rng, np.zeros(n) - 0.1, 0.4)
    out["HeatingQC"] = _grade(rng, qual_centre + 0.6, 0.8)
    kitchen = _grade(rng, qual_centre - 0.2, 0.6)
    out["KitchenQual"] = kitchen

    mas_area = np.where(out["MasVnrType"] == "None", 0.0, np.exp(rng.normal(5.2, 0.6, n)).round())
    out["MasVnrArea"] = np.where(rng.random(n) < 0.006, np.nan, mas_area)

    # Basement: a house without one has every basement field missing together, and zero area.
    has_bsmt = rng.random(n) > 0.025
    bsmt_sf = np.where(has_bsmt, (gr_liv * rng.normal(0.72, 0.2, n)).clip(200, 3200).round(), 0)
    out["TotalBsmtSF"] = bsmt_sf.astype(np.int64)
    out["BsmtQual"] = _only_where(has_bsmt, _grade(rng, qual_centre, 0.6))
    out["BsmtCond"] = _only_where(has_bsmt, _grade(rng, np.zeros(n) - 0.1, 0.35))
    exposure = rng.choice(
        np.array(["No", "Av", "Gd", "Mn"], dtype=object), size=n, p=[0.67, 0.16, 0.10, 0.07]
    )
    out["BsmtExposure"] = _only_where(has_bsmt, exposure)
    fin = rng.choice(
        np.array(["Unf", "GLQ", "ALQ", "BLQ", "Rec", "LwQ"], dtype=object),
        size=n,
        p=[0.30, 0.29, 0.16, 0.10, 0.09, 0.06],
    )
    out["BsmtFinType1"] = _only_where(has_bsmt, fin)

    fireplaces = rng.choice([0, 1, 2, 3], size=n, p=[0.47, 0.45, 0.075, 0.005]).astype(np.int64)
    out["Fireplaces"] = fireplaces
    out["FireplaceQu"] = _only_where(fireplaces > 0, _grade(rng, qual_centre - 0.3, 0.7))

    # Garage: no garage means every garage field is missing together and cars/area are zero.
    has_garage = rng.random(n) > 0.055
    gtype, _ = _levels(rng, {k: (p, 0.0) for k, p in GARAGE_TYPES.items()}, n)
    cars = np.clip(np.rint(1.2 + 0.35 * (qual - 6) + rng.normal(0, 0.6, n)), 1, 4)
    out["GarageType"] = _only_where(has_garage, gtype)
    garage_year = np.minimum(year_built + np.where(rng.random(n) < 0.8, 0, rng.integers(0, 30, n)), yr_sold)
    out["GarageYrBlt"] = np.where(has_garage, garage_year.astype(float), np.nan)
    finish = rng.choice(np.array(["Unf", "RFn", "Fin"], dtype=object), size=n, p=[0.44, 0.31, 0.25])
    out["GarageFinish"] = _only_where(has_garage, finish)
    out["GarageCars"] = np.where(has_garage, cars, 0).astype(np.int64)
    out["GarageArea"] = np.where(has_garage, (cars * rng.normal(240, 35, n)).round(), 0).astype(np.int64)
    out["GarageQual"] = _only_where(has_garage, _grade(rng, np.zeros(n) - 0.15, 0.3))

    out["WoodDeckSF"] = np.where(rng.random(n) < 0.48, 0, rng.gamma(2.0, 90.0, n).round()).astype(np.int64)
    out["OpenPorchSF"] = np.where(rng.random(n) < 0.45, 0, rng.gamma(1.8, 40.0, n).round()).astype(np.int64)

    # Scattered missing values in a few categoricals (about 0.3%).
    for col in SCATTERED_MISSING:
        out[col] = _only_where(rng.random(n) >= 0.003, out[col])

    log_price += _price_signal(out, qual, gr_liv, lot_area, bsmt_sf, yr_sold, year_remod, has_garage, kitchen)
    log_price += rng.standard_t(6, n) * 0.09
    out[TARGET] = np.round(np.exp(log_price), -2).astype(np.int64)

    frame = pd.DataFrame(out)
    return _with_dtypes(frame)


def _price_signal(
    out: dict[str, np.ndarray],
    qual: np.ndarray,
    gr_liv: np.ndarray,
    lot_area: np.ndarray,
    bsmt_sf: np.ndarray,
    yr_sold: np.ndarray,
    year_remod: np.ndarray,
    has_garage: np.ndarray,
    kitchen: np.ndarray,
) -> np.ndarray:
    """The nonlinear part of log price: quality is convex, size is logarithmic, age decays."""
    signal = 0.085 * (qual - 6) + 0.012 * (qual - 6) ** 2
    signal += 0.42 * (np.log(gr_liv) - 7.27)
    signal += 0.08 * (np.log(lot_area) - 9.1)
    signal += 0.00011 * (bsmt_sf - 1000)
    signal -= 0.0032 * (yr_sold - out["YearBuilt"]) - 0.0011 * np.minimum(yr_sold - year_remod, 40)
    signal += 0.04 * out["GarageCars"] + np.where(has_garage, 0.0, -0.07)
    signal += 0.03 * np.minimum(out["Fireplaces"], 2)
    kitchen_score = np.zeros(kitchen.size)
    for grade, score in _QUALITY_SCORE.items():
        kitchen_score[kitchen == grade] = score
    signal += 0.04 * kitchen_score
    signal += 0.03 * (out["OverallCond"] - 5)
    return signal


def _with_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers stay numeric, categories become pandas strings with real missing values."""
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("str")  # None -> NaN, every level a str
    return frame


def train_frame(seed: int = 0, n_rows: int = TRAIN_ROWS) -> pd.DataFrame:
    """The training rows of the reference data set."""
    return generate(n_rows, seed=seed, first_id=1)


def holdout_frame(seed: int = 0, n_rows: int = HOLDOUT_ROWS) -> pd.DataFrame:
    """Holdout rows: a different stream of the same generator, ids continuing after training."""
    return generate(n_rows, seed=seed + 1_000_003, first_id=TRAIN_ROWS + 1)
