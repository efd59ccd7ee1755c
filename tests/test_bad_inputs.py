"""The bad-input contract, case by case: exit 2, one stderr line naming the culprit, no traceback,
and the working folder exactly as it was.

Each case is data: the command line, the files it needs (made in the working folder before the
snapshot), and the flag, file, field or column its one line must name. Cases run in-process through
``main`` (a subprocess per case would spend seconds importing); a few run as real processes to show
the real `python -m mlgate` behaves the same.
"""

from __future__ import annotations

import fractions
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import skops.io as sio

from mlgate.cli import main
from mlgate.model import artifacts

HOST_FILE = f"{socket.gethostname()}.json"  # this machine's A/A history file


@dataclass
class Env:
    """What a case's setup can use: the working folder and the session's inputs."""

    cwd: Path
    models: dict[str, Path]
    holdout_csv: Path

    def holdout(self) -> pd.DataFrame:
        return pd.read_csv(self.holdout_csv, keep_default_na=False, na_values=[""])


Setup = Callable[[Env], None]


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]  # {v1}, {v2}, {holdout}, {garbage_api}, {busy_port} are filled in
    names: str  # must appear in the one line
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: Setup | None = None
    absent: str | None = None  # must NOT appear (a flag this command does not have)


# --- setups: small builders of bad inputs -----------------------------------------------------


def artifact(
    name: str = "art", manifest: Any = ..., edit: Callable[[dict[str, Any]], None] | None = None
) -> Setup:
    """A copy of the v1 artifact, with its manifest replaced or edited."""

    def setup(env: Env) -> None:
        shutil.copytree(env.models["v1"], env.cwd / name)
        path = env.cwd / name / artifacts.MANIFEST_FILE
        if manifest is not ...:
            path.write_text(json.dumps(manifest))
        if edit is not None:
            content = json.loads(path.read_text())
            edit(content)
            path.write_text(json.dumps(content))

    return setup


def model_file(make: Callable[[Path, Path], None], file_name: str = artifacts.MODEL_FILE) -> Setup:
    """A copy of the v1 artifact whose model file is replaced by ``make(new_path, v1_model_path)``."""

    def setup(env: Env) -> None:
        folder = env.cwd / "art"
        shutil.copytree(env.models["v1"], folder)
        (folder / artifacts.MODEL_FILE).unlink()
        make(folder / file_name, env.models["v1"] / artifacts.MODEL_FILE)

    return setup


def zip_with(
    extra: dict[str, bytes], keep: Callable[[str], bool] = lambda _: True
) -> Callable[[Path, Path], None]:
    """The v1 skops zip with only the members ``keep`` accepts, plus ``extra`` members."""

    def make(path: Path, original: Path) -> None:
        with zipfile.ZipFile(original) as src, zipfile.ZipFile(path, "w") as dst:
            for info in src.infolist():
                if keep(info.filename):
                    dst.writestr(info.filename, src.read(info))
            for name, data in extra.items():
                dst.writestr(name, data)

    return make


def zip_bomb(path: Path, _: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("schema.json", b" " * (64 * 2**20))  # 64 MiB from about 64 KB


def skops_of(obj: object) -> Callable[[Path, Path], None]:
    return lambda path, _: sio.dump(obj, path)


def joblib_of_v1(path: Path, original: Path) -> None:
    from mlgate import reference

    joblib.dump(artifacts.load(original.parent, reference.TRUSTED_TYPES).pipeline, path)


def holdout_as(name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Setup:
    """The holdout, changed, written to ``name`` (csv)."""

    def setup(env: Env) -> None:
        change(env.holdout()).to_csv(env.cwd / name, index=False)

    return setup


def with_value(column: str, value: Any, row: int = 0) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


def predictions(**columns: list[Any]) -> str:
    """A predictions CSV's text."""
    return pd.DataFrame(columns).to_csv(index=False)


def policy_case(key: str, toml: str, names: str | None = None) -> Case:
    """A compare whose --policy sets one bad value: the line names the key."""
    return Case(
        f"policy-{key}",
        ["compare", "a.csv", "b.csv", "--policy", "policy.toml"],
        names or key.split("-")[0],
        files={"policy.toml": toml, "a.csv": PRED_A, "b.csv": PRED_A},
    )


def setups(*steps: Setup) -> Setup:
    def setup(env: Env) -> None:
        for step in steps:
            step(env)

    return setup


# Specs whose own code fails the ways user code does: each must be one line naming the spec.
USER_SPECS = """
import pandas as pd
from mlgate import ModelSpec, reference


def _spec(**changes):
    fields = dict(
        name="user", task="regression", target=reference.TARGET, id_column=reference.ID_COLUMN,
        versions=("v1",), build=reference.build, load_train=reference.train_frame,
        load_holdout=reference.holdout_frame, trusted_types=reference.TRUSTED_TYPES,
    )
    return ModelSpec(**{**fields, **changes})


def _missing_file():
    return pd.read_csv("no/such/train.csv")


missing_data = _spec(load_train=_missing_file, load_holdout=_missing_file)
none_data = _spec(load_train=lambda: None)
broken_build = _spec(build=lambda version: 1 / 0)
not_a_pipeline = _spec(build=lambda version: "a pipeline")
holdout_without_target = _spec(
    load_holdout=lambda: reference.holdout_frame().drop(columns=[reference.TARGET])
)
no_versions = _spec(versions=())
bad_task = _spec(task="ranking")
"""
USER = {"spec_user.py": USER_SPECS}


def asv_files(result: str, machine: str = "{}") -> dict[str, str | bytes]:
    """An asv results folder whose result file for deadbeef holds ``result``."""
    return {
        "a.csv": PRED_A,
        "b.csv": PRED_A,
        "asv/benchmarks.json": "{}",
        "asv/m1/machine.json": machine,
        "asv/m1/deadbeef-env.json": result,
        "asv/m1/cafebabe-env.json": json.dumps({"commit_hash": "cafebabe", "results": {}}),
    }


ASV = ["compare", "a.csv", "b.csv", "--asv-results", "asv", "--asv-baseline", "deadbeef"]
ASV += ["--asv-candidate", "cafebabe"]
IDS = list(range(1, 41))
LONG = "n" * 300  # longer than a file name may be
PRED_A = predictions(Id=IDS, prediction=[float(i) for i in IDS])
GIT = {".git/HEAD": "ref: refs/heads/main\n"}
PLAIN_API = "http://127.0.0.1:9"  # the discard port: nothing answers there
LOAD = ["load", "--host", "{garbage_api}"]  # something answers there, so only the plan is judged

CASES: list[Case] = [
    # --- usage, whatever the command ---
    Case("no-such-command", ["bogus"], "bogus"),
    Case("unknown-flag", ["train", "--out", "m", "--bogus"], "--bogus"),
    Case("train-without-out", ["train"], "--out"),
    Case("predict-without-artifact", ["predict"], "artifact"),
    Case("predict-without-data", ["predict", "{v1}", "--out", "p.csv"], "--data"),
    Case("compare-without-candidate", ["compare", "{v1}"], "candidate"),
    Case("parity-without-api", ["parity", "{v1}"], "--api"),
    Case("threads-negative", ["train", "--out", "m", "--threads", "-1"], "--threads"),
    Case("not-a-number", ["data", "--rows", "many"], "--rows"),
    Case("long-message-stays-one-line", ["data", "--format", "x" * 300], "--format"),
    # --- data ---
    Case("data-out-is-a-file", ["data", "--out", "afile"], "--out", files={"afile": "x"}),
    Case("data-out-under-a-file", ["data", "--out", "afile/sub"], "--out", files={"afile": "x"}),
    Case("data-train-exists", ["data", "--out", "d"], "--out", files={"d/train.csv": "x"}),
    Case("data-holdout-exists", ["data", "--out", "d"], "--out", files={"d/holdout.csv": "x"}),
    Case(
        "data-holdout-is-a-folder",
        ["data", "--out", "d", "--force"],
        "holdout.csv",
        files={"d/holdout.csv/keep": "x"},
    ),
    Case("data-bad-format", ["data", "--format", "xlsx"], "--format"),
    *(
        Case(f"name-too-long-{argv[0]}-{flag.strip('-').lower()}", argv, flag, files={"a.csv": PRED_A})
        for flag, argv in (
            ("--out", ["data", "--out", LONG]),
            ("--out", ["train", "--out", LONG]),
            ("--data", ["predict", "{v1}", "--data", f"{LONG}.csv", "--out", "p.csv"]),
            ("ARTIFACT", ["predict", LONG, "--data", "{holdout}", "--out", "p.csv"]),
            ("BASELINE", ["compare", f"{LONG}.csv", "a.csv"]),
            ("--policy", ["compare", "a.csv", "a.csv", "--policy", LONG]),
            ("--calibration", ["compare", "a.csv", "a.csv", "--calibration", LONG]),
            ("--report", ["check", "v1", "v2", "--report", LONG]),
        )
    ),
    Case("data-zero-rows", ["data", "--rows", "0"], "--rows"),
    Case("data-negative-seed", ["data", "--seed", "-1", "--out", "d"], "--seed"),
    Case("data-rows-of-another-spec", ["data", "--spec", "model_specs:wine", "--rows", "10"], "--rows"),
    Case("spec-missing-module", ["data", "--spec", "no_such_module_here:spec"], "--spec"),
    Case("spec-without-colon", ["data", "--spec", "justaname"], "--spec"),
    # --- train and specs ---
    Case("spec-missing-attribute", ["train", "--out", "m", "--spec", "mlgate.reference:nope"], "--spec"),
    Case("spec-function-needing-arguments", ["train", "--out", "m", "--spec", "json:loads"], "--spec"),
    Case("spec-a-string", ["train", "--out", "m", "--spec", "mlgate.reference:TARGET"], "--spec"),
    Case("spec-class-not-a-spec", ["train", "--out", "m", "--spec", "collections:OrderedDict"], "--spec"),
    Case(
        "spec-module-syntax-error",
        ["train", "--out", "m", "--spec", "spec_syntax_error:spec"],
        "--spec",
        files={"spec_syntax_error.py": "def (:\n"},
    ),
    Case(
        "spec-module-raises",
        ["train", "--out", "m", "--spec", "spec_raising:spec"],
        "--spec",
        files={"spec_raising.py": "raise RuntimeError('boom at import')\n"},
    ),
    Case(
        "spec-factory-raises",
        ["train", "--out", "m", "--spec", "spec_factory:spec"],
        "--spec",
        files={"spec_factory.py": "def spec():\n    raise ValueError('no spec today')\n"},
    ),
    Case(
        "pyproject-model-not-a-string",
        ["train", "--out", "m"],
        "pyproject.toml",
        files={"pyproject.toml": "[tool.mlgate]\nmodel = 5\n"},
    ),
    Case(
        "pyproject-not-toml", ["train", "--out", "m"], "pyproject.toml", files={"pyproject.toml": "[tool\n"}
    ),
    Case("train-unknown-version", ["train", "--out", "m", "--version", "v9"], "--version"),
    Case("train-out-exists", ["train", "--out", "m"], "--out", files={"m/keep.txt": "x"}),
    Case("train-out-is-a-file", ["train", "--out", "m", "--force"], "--out", files={"m": "x"}),
    Case("train-out-under-a-file", ["train", "--out", "afile/m"], "--out", files={"afile": "x"}),
    *(
        Case(
            f"user-spec-{label}",
            [*argv, "--spec", f"spec_user:{name}"],
            names,
            files=USER,
            setup=artifact(edit=lambda m, name=name: m.update(spec=f"spec_user:{name}")),
        )
        for label, argv, name, names in (
            ("train-data-file-missing", ["train", "--out", "m"], "missing_data", "load_train"),
            ("data-export-file-missing", ["data", "--out", "d"], "missing_data", "load_train"),
            ("train-loader-returns-none", ["train", "--out", "m"], "none_data", "load_train"),
            ("train-build-raises", ["train", "--out", "m"], "broken_build", "build"),
            ("train-build-not-a-pipeline", ["train", "--out", "m"], "not_a_pipeline", "Pipeline"),
            ("train-holdout-without-target", ["train", "--out", "m"], "holdout_without_target", "SalePrice"),
            ("train-no-versions", ["train", "--out", "m"], "no_versions", "versions"),
            ("train-bad-task", ["train", "--out", "m"], "bad_task", "task"),
            # An artifact trained with that spec (else a warning says the specs differ, rightly).
            ("compare-holdout-missing", ["compare", "art", "art"], "missing_data", "load_holdout"),
            ("parity-holdout-missing", ["parity", "art", "--api", PLAIN_API], "missing_data", "load_holdout"),
        )
    ),
    Case(
        "pyproject-not-utf8",
        ["train", "--out", "m"],
        "pyproject.toml",
        files={"pyproject.toml": "[tool.mlgate]\nmodel = 'caf\xe9'\n".encode("latin-1")},
    ),
    Case(
        "pyproject-policy-not-a-table",
        ["compare", "a.csv", "b.csv"],
        "pyproject.toml",
        files={"pyproject.toml": "[tool.mlgate]\npolicy = 5\n", "a.csv": PRED_A, "b.csv": PRED_A},
    ),
    # --- predict: the artifact ---
    Case("artifact-missing", ["predict", "nope", "--data", "{holdout}", "--out", "p.csv"], "nope"),
    Case(
        "artifact-is-a-file",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "art",
        files={"art": "x"},
    ),
    Case(
        "artifact-without-manifest",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "manifest.json",
        files={"art/model.skops": "x"},
    ),
    Case(
        "manifest-not-json",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "manifest.json",
        setup=setups(artifact(), lambda env: (env.cwd / "art/manifest.json").write_text("{")),
    ),
    *(
        Case(
            f"manifest-{label}",
            ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
            "manifest.json",
            setup=artifact(manifest=value),
        )
        for label, value in (("null", None), ("list", [1, 2]), ("string", "v1"), ("number", 5))
    ),
    *(
        Case(
            f"manifest-{label}",
            ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
            key,
            setup=artifact(edit=edit),
        )
        for label, key, edit in (
            ("schema-a-number", "input_schema", lambda m: m.update(input_schema=5)),
            ("schema-bad-kind", "input_schema", lambda m: m["input_schema"][0].update(kind="date")),
            ("schema-entry-a-string", "input_schema", lambda m: m.update(input_schema=["LotArea"])),
            ("no-id-column", "id_column", lambda m: m.pop("id_column")),
            ("id-column-a-number", "id_column", lambda m: m.update(id_column=5)),
            ("version-a-list", "version", lambda m: m.update(version=["v1"])),
            ("bad-task", "task", lambda m: m.update(task="clustering")),
        )
    ),
    Case(
        "manifest-deeply-nested",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "manifest.json",
        setup=setups(artifact(), lambda env: (env.cwd / "art/manifest.json").write_text("[" * 100_000)),
    ),
    *(
        Case(
            f"model-file-{label}",
            ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
            "model.skops",
            setup=model_file(make),
        )
        for label, make in (
            ("not-a-zip", lambda path, _: path.write_bytes(b"hello, not a zip")),
            ("empty", lambda path, _: path.write_bytes(b"")),
            ("truncated", lambda path, src: path.write_bytes(src.read_bytes()[: src.stat().st_size // 2])),
            ("parent-member", zip_with({"../evil": b"x"})),
            ("absolute-member", zip_with({"/abs": b"x"})),
            ("backslash-member", zip_with({"..\\evil": b"x"})),
            ("drive-letter-member", zip_with({"C:/evil": b"x"})),
            ("zip-bomb", zip_bomb),
            ("member-missing", zip_with({}, keep=lambda name: not name.endswith(".npy"))),
            ("schema-not-json", zip_with({"schema.json": b"{not json"}, keep=lambda n: n != "schema.json")),
            ("untrusted-type", skops_of(fractions.Fraction(1, 3))),
            ("not-a-pipeline", skops_of({"a": 1})),
        )
    ),
    Case(
        "pickle-without-trust",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "--trust-pickle",
        setup=model_file(joblib_of_v1, "model.joblib"),
    ),
    Case(
        "pickle-corrupt",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv", "--trust-pickle"],
        "model.joblib",
        setup=model_file(lambda path, _: path.write_bytes(b"garbage, not a pickle"), "model.joblib"),
    ),
    Case(
        "no-model-file",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "model.skops",
        setup=model_file(lambda path, _: None),
    ),
    # --- predict: the data ---
    Case("data-missing", ["predict", "{v1}", "--data", "nope.csv", "--out", "p.csv"], "--data"),
    Case(
        "data-empty", ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"], "d.csv", files={"d.csv": ""}
    ),
    Case(
        "data-header-only",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "d.csv",
        files={"d.csv": "Id,LotArea\n"},
    ),
    Case(
        "data-wrong-extension",
        ["predict", "{v1}", "--data", "d.txt", "--out", "p.csv"],
        "--data",
        files={"d.txt": "Id\n1\n"},
    ),
    Case(
        "data-is-a-folder", ["predict", "{v1}", "--data", "d", "--out", "p.csv"], "--data", files={"d/x": ""}
    ),
    Case(
        "data-not-parquet",
        ["predict", "{v1}", "--data", "d.parquet", "--out", "p.csv"],
        "d.parquet",
        files={"d.parquet": "Id\n1\n"},
    ),
    Case(
        "data-ragged-csv",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "d.csv",
        files={"d.csv": "Id,a\n1,2\n3,4,5,6\n"},
    ),
    Case(
        "data-not-utf8",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "d.csv",
        files={"d.csv": "Id,Street\n1,caf\xe9\n".encode("latin-1")},
    ),
    Case(
        "data-without-id",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "'Id'",
        setup=holdout_as("d.csv", lambda f: f.drop(columns=["Id"])),
    ),
    Case(
        "data-duplicate-ids",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "'Id'",
        setup=holdout_as("d.csv", with_value("Id", 1461, row=1)),
    ),
    Case(
        "data-blank-id",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "'Id'",
        setup=holdout_as("d.csv", with_value("Id", None)),
    ),
    Case(
        "data-missing-feature",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "LotArea",
        setup=holdout_as("d.csv", lambda f: f.drop(columns=["LotArea"])),
    ),
    Case(
        "data-text-in-integer-column",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "LotArea",
        setup=holdout_as("d.csv", with_value("LotArea", "big")),
    ),
    Case(
        "data-inf-in-integer-column",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "column 'LotArea' holds a non-finite value (inf)",
        setup=holdout_as("d.csv", with_value("LotArea", "inf")),
    ),
    Case(
        "data-fraction-in-integer-column",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "LotArea",
        setup=holdout_as("d.csv", with_value("LotArea", 10.5)),
    ),
    Case(
        "data-integer-too-large",
        ["predict", "{v1}", "--data", "d.csv", "--out", "p.csv"],
        "LotArea",
        setup=holdout_as("d.csv", with_value("LotArea", 1e30)),
    ),
    # --- predict: the output ---
    Case(
        "predict-out-exists",
        ["predict", "{v1}", "--data", "{holdout}", "--out", "p.csv"],
        "--out",
        files={"p.csv": "x"},
    ),
    Case("predict-out-bad-suffix", ["predict", "{v1}", "--data", "{holdout}", "--out", "p.txt"], "--out"),
    Case(
        "predict-out-under-a-file",
        ["predict", "{v1}", "--data", "{holdout}", "--out", "afile/p.csv"],
        "--out",
        files={"afile": "x"},
    ),
    Case(
        "predict-out-is-a-folder",
        ["predict", "{v1}", "--data", "{holdout}", "--out", "p.csv", "--force"],
        "--out",
        files={"p.csv/keep": "x"},
    ),
    Case(
        "predict-steps-exist",
        ["predict", "{v1}", "--data", "{holdout}", "--out", "p.parquet", "--steps"],
        "p.steps",
        files={"p.steps/keep": "x"},
    ),
    # --- compare: inputs and outputs ---
    Case("compare-baseline-missing", ["compare", "nope.csv", "{v1}"], "BASELINE"),
    Case("compare-folder-without-manifest", ["compare", "{v1}", "d"], "manifest.json", files={"d/x": ""}),
    Case(
        "compare-out-exists",
        ["compare", "a.csv", "b.csv", "--out", "r"],
        "--out",
        files={"r/keep": "x", "a.csv": PRED_A, "b.csv": PRED_A},
        absent="--force",
    ),
    Case(
        "compare-out-under-a-file",
        ["compare", "a.csv", "b.csv", "--out", "afile/r"],
        "--out",
        files={"afile": "x", "a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case("compare-policy-missing", ["compare", "{v1}", "{v2}", "--policy", "nope.toml"], "--policy"),
    Case(
        "compare-policy-not-toml",
        ["compare", "{v1}", "{v2}", "--policy", "p.toml"],
        "--policy",
        files={"p.toml": "alpha = = 1\n"},
    ),
    Case(
        "compare-policy-a-folder",
        ["compare", "a.csv", "b.csv", "--policy", "p"],
        "--policy",
        files={"p/x.toml": "", "a.csv": PRED_A, "b.csv": PRED_A},
    ),
    policy_case("deeply-nested", "alpha = " + "[" * 100_000 + "\n", "--policy"),
    policy_case("quality.margin", "[quality]\nmargin = 0.02\n"),
    policy_case("alpha-text", 'alpha = "low"\n'),
    policy_case("alpha-zero", "alpha = 0\n"),
    policy_case("alpha-above-half", "alpha = 0.6\n"),
    policy_case("alpha-nan", "alpha = nan\n"),
    policy_case("min_join-zero", "min_join = 0\n"),
    policy_case("min_join-above-one", "min_join = 1.5\n"),
    policy_case("parity.rtol-negative", "[parity]\nrtol = -1e-7\n"),
    policy_case("parity.atol-inf", "[parity]\natol = inf\n"),
    policy_case("parity.max_flip_rate-above-one", "[parity]\nmax_flip_rate = 1.5\n"),
    policy_case("parity.required-text", '[parity]\nrequired = "yes"\n'),
    policy_case("parity.columns.LotArea-number", "[parity.columns]\nLotArea = 5\n"),
    policy_case("parity.columns.LotArea.rtol-negative", "[parity.columns]\nLotArea = { rtol = -1 }\n"),
    policy_case("quality-not-a-table", "quality = 5\n"),
    policy_case("quality.resamples-zero", "[quality]\nresamples = 0\n"),
    policy_case("quality.resamples-99", "[quality]\nresamples = 99\n"),
    policy_case("quality.resamples-huge", "[quality]\nresamples = 1000000000\n"),
    policy_case("quality.resamples-fraction", "[quality]\nresamples = 2000.5\n"),
    policy_case("quality.seed-negative", "[quality]\nseed = -1\n"),
    policy_case("quality.margins.rmse-negative", "[quality.margins]\nrmse = -0.01\n"),
    policy_case("latency.p95-negative", "[latency]\np95 = -0.05\n"),
    policy_case("latency.error_rate-above-one", "[latency]\nerror_rate = 2\n"),
    policy_case("timing.time-nan", "[timing]\ntime = nan\n"),
    policy_case("shift.bins-zero", "[shift]\nbins = 0\n"),
    policy_case("shift.bins-one", "[shift]\nbins = 1\n"),
    policy_case("shift.bins-huge", "[shift]\nbins = 1000000000000\n"),
    policy_case("shift.psi_warn-negative", "[shift]\npsi_warn = -0.1\n"),
    policy_case("shift.psi_warn-above-fail", "[shift]\npsi_warn = 0.5\n", "psi_fail"),
    policy_case("shift.ks_warn-above-one", "[shift]\nks_warn = 2\n"),
    policy_case("shift.min_segment_rows-zero", "[shift]\nmin_segment_rows = 0\n"),
    policy_case("shift.segment-number", "[shift]\nsegment = 5\n"),
    Case(
        "pyproject-policy-out-of-range",
        ["compare", "a.csv", "b.csv"],
        "pyproject.toml",
        files={"pyproject.toml": "[tool.mlgate.policy]\nmin_join = 2\n", "a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case(
        "policy-segment-not-a-column",
        ["compare", "{v1}", "{v2}", "--policy", "p.toml"],
        "shift.segment",
        files={"p.toml": '[shift]\nsegment = "Nope"\n'},
    ),
    *(
        Case(
            f"predictions-{label}",
            ["compare", "a.csv", "b.csv"],
            names,
            files={"a.csv": PRED_A, "b.csv": text},
        )
        for label, names, text in (
            ("blank", "prediction", predictions(Id=IDS, prediction=[1.0] * 39 + [None])),
            ("inf", "prediction", predictions(Id=IDS, prediction=[1.0] * 39 + [float("inf")])),
            ("duplicate-ids", "'Id'", predictions(Id=[1, *IDS[:-1]], prediction=[1.0] * 40)),
            ("blank-id", "'Id'", predictions(Id=[None, *IDS[1:]], prediction=[1.0] * 40)),
            ("no-id-column", "'Id'", predictions(key=IDS, prediction=[1.0] * 40)),
            ("no-prediction-column", "prediction", predictions(Id=IDS, score=[1.0] * 40)),
            ("no-common-ids", "no common ids", predictions(Id=[i + 100 for i in IDS], prediction=[1.0] * 40)),
            ("below-min-join", "min_join", predictions(Id=[i + 20 for i in IDS], prediction=[1.0] * 40)),
            (
                "labels-against-numbers",
                "one file holds class predictions",
                predictions(Id=IDS, prediction=["y"] * 40),
            ),
        )
    ),
    Case(
        "predictions-probability-above-one",
        ["compare", "a.csv", "b.csv"],
        "proba_y",
        files={
            "a.csv": predictions(Id=IDS, prediction=["y"] * 40, proba_y=[0.9] * 40),
            "b.csv": predictions(Id=IDS, prediction=["y"] * 40, proba_y=[0.9] * 39 + [1.5]),
        },
    ),
    Case(
        "compare-id-not-a-column",
        ["compare", "a.csv", "b.csv", "--id", "nope"],
        "--id",
        files={"a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case("compare-data-missing", ["compare", "{v1}", "{v2}", "--data", "nope.csv"], "--data"),
    Case(
        "compare-target-missing",
        ["compare", "{v1}", "{v2}", "--data", "d.csv"],
        "--target",
        setup=holdout_as("d.csv", lambda f: f.drop(columns=["SalePrice"])),
    ),
    Case(
        "compare-target-blank",
        ["compare", "{v1}", "{v2}", "--data", "d.csv"],
        "--target",
        setup=holdout_as("d.csv", with_value("SalePrice", None)),
    ),
    Case(
        "compare-too-few-labelled-rows",
        ["compare", "{v1}", "{v2}", "--data", "d.csv"],
        "BASELINE/CANDIDATE",
        setup=holdout_as("d.csv", lambda f: f.head(2)),
    ),
    Case(
        "compare-target-constant",
        ["compare", "{v1}", "{v2}", "--data", "d.csv"],
        "--target",
        setup=holdout_as("d.csv", lambda f: f.assign(SalePrice=100_000)),
    ),
    Case(
        "compare-one-row",
        ["compare", "a.csv", "b.csv"],
        "BASELINE/CANDIDATE",
        files={
            "a.csv": predictions(Id=[1], prediction=[1.0]),
            "b.csv": predictions(Id=[1], prediction=[2.0]),
        },
    ),
    Case(
        "compare-target-inf",
        ["compare", "{v1}", "{v2}", "--data", "d.csv"],
        "--target",
        setup=holdout_as("d.csv", with_value("SalePrice", "inf")),
    ),
    Case(
        "compare-steps-index-corrupt",
        ["compare", "a.csv", "b.csv"],
        "a.steps",
        files={
            "a.csv": PRED_A,
            "b.csv": PRED_A,
            "a.steps/steps.json": '{"steps": [{"file": "gone.parquet"}]}',
        },
    ),
    Case(
        "compare-asv-results-missing",
        [*ASV[:3], "--asv-results", "nope", *ASV[5:]],
        "--asv-results",
        files={"a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case(
        "compare-asv-revision-without-results",
        [*ASV[:-1], "12345678"],
        "--asv-candidate",
        files=asv_files(json.dumps({"commit_hash": "deadbeef", "results": {}})),
    ),
    Case("compare-asv-result-a-list", ASV, "deadbeef-env.json", files=asv_files("[1]")),
    Case("compare-asv-result-not-json", ASV, "deadbeef-env.json", files=asv_files("{")),
    Case(
        "compare-asv-results-a-number",
        ASV,
        "deadbeef-env.json",
        files=asv_files(json.dumps({"commit_hash": "deadbeef", "results": 5})),
    ),
    Case(
        "compare-asv-machine-not-json",
        ASV,
        "machine.json",
        files=asv_files(json.dumps({"commit_hash": "deadbeef", "results": {}}), machine="{"),
    ),
    Case(
        "compare-history-values-not-numbers",
        ["compare", "a.csv", "b.csv", "--calibration", "cal"],
        HOST_FILE,
        files={"a.csv": PRED_A, "b.csv": PRED_A, f"cal/{HOST_FILE}": '{"history": {"k": ["a"]}}'},
    ),
    Case(
        "compare-target-text",
        ["compare", "{v1}", "{v2}", "--data", "d.csv"],
        "--target",
        setup=holdout_as("d.csv", with_value("SalePrice", "pricey")),
    ),
    Case(
        "compare-asv-partial",
        ["compare", "a.csv", "b.csv", "--asv-results", "asv"],
        "--asv-results",
        files={"a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case(
        "compare-canary-asv-without-colon",
        [*ASV[:-4], "--asv-baseline", "r1", "--asv-candidate", "r2", "--canary-asv", "r1r2"],
        "--canary-asv",
        files={"a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case(
        "compare-canary-asv-alone",
        ["compare", "a.csv", "b.csv", "--canary-asv", "r1:r2"],
        "--canary-asv",
        files={"a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case(
        "compare-load-baseline-alone",
        ["compare", "a.csv", "b.csv", "--load-baseline", "runs"],
        "--load-baseline",
        files={"a.csv": PRED_A, "b.csv": PRED_A, "runs/x": ""},
    ),
    Case(
        "compare-canary-load-alone",
        ["compare", "a.csv", "b.csv", "--canary-load", "runs"],
        "--canary-load",
        files={"a.csv": PRED_A, "b.csv": PRED_A, "runs/x": ""},
    ),
    Case(
        "compare-history-corrupt",
        ["compare", "a.csv", "b.csv", "--calibration", "cal"],
        HOST_FILE,
        files={"a.csv": PRED_A, "b.csv": PRED_A, f"cal/{HOST_FILE}": "{"},
    ),
    # --- parity ---
    Case("parity-api-not-a-url", ["parity", "{v1}", "--api", "not a url"], "--api"),
    Case("parity-api-ftp", ["parity", "{v1}", "--api", "ftp://127.0.0.1/x"], "--api"),
    Case("parity-api-bad-port", ["parity", "{v1}", "--api", "http://127.0.0.1:99999"], "--api"),
    Case("parity-api-no-host", ["parity", "{v1}", "--api", "http://"], "--api"),
    Case("parity-api-unreachable", ["parity", "{v1}", "--api", PLAIN_API], "--api"),
    Case("parity-api-answers-garbage", ["parity", "{v1}", "--api", "{garbage_api}"], "--api"),
    Case("parity-artifact-missing", ["parity", "nope", "--api", PLAIN_API], "nope"),
    Case("parity-data-missing", ["parity", "{v1}", "--api", PLAIN_API, "--data", "nope.csv"], "--data"),
    Case(
        "parity-batch-size-zero", ["parity", "{v1}", "--api", PLAIN_API, "--batch-size", "0"], "--batch-size"
    ),
    # --- calibrate ---
    Case("calibrate-nothing-to-do", ["calibrate"], "--host"),
    Case(
        "calibrate-history-corrupt-before-any-load",
        ["calibrate", "--host", PLAIN_API, "--calibration", "cal"],
        HOST_FILE,
        files={f"cal/{HOST_FILE}": "{ not json"},
    ),
    Case(
        "calibrate-history-a-list",
        ["calibrate", "--host", PLAIN_API, "--calibration", "cal"],
        HOST_FILE,
        files={f"cal/{HOST_FILE}": "[1, 2]"},
    ),
    Case(
        "calibrate-history-under-a-file",
        ["calibrate", "--host", PLAIN_API, "--calibration", "afile/cal"],
        "--calibration",
        files={"afile": "x"},
    ),
    Case(
        "calibrate-run-time-too-short",
        ["calibrate", "--host", PLAIN_API, "--run-time", "2s"],
        "--run-time",
        absent="--warmup",
    ),
    Case("calibrate-host-not-answering", ["calibrate", "--host", PLAIN_API], "--host"),
    Case("calibrate-run-time-bogus", ["calibrate", "--host", PLAIN_API, "--run-time", "soon"], "--run-time"),
    Case("calibrate-host-not-a-url", ["calibrate", "--host", "not a url"], "--host"),
    Case(
        "calibrate-host-remote",
        ["calibrate", "--host", "http://192.0.2.1:8000"],
        "--host",
        absent="--allow-remote",
    ),
    Case("calibrate-zero-users", ["calibrate", "--host", PLAIN_API, "--users", "0"], "--users"),
    Case("calibrate-one-run", ["calibrate", "--host", PLAIN_API, "--runs", "1"], "--runs"),
    Case("calibrate-load-baseline-alone", ["calibrate", "--load-baseline", "runs"], "--load-candidate"),
    Case("calibrate-asv-partial", ["calibrate", "--asv-results", "asv"], "--asv-baseline"),
    Case(
        "calibrate-load-runs-missing",
        ["calibrate", "--load-baseline", "a", "--load-candidate", "b"],
        "--load-baseline",
    ),
    Case(
        "calibrate-host-and-runs",
        ["calibrate", "--host", PLAIN_API, "--load-baseline", "a", "--load-candidate", "b"],
        "--host",
    ),
    # --- check and demo ---
    Case("check-bogus-plan", ["check", "v1", "v2", "--plan", "bogus"], "--plan"),
    Case("check-bogus-skip", ["check", "v1", "v2", "--skip", "bogus"], "--skip"),
    Case("check-bogus-load-design", ["check", "v1", "v2", "--load-design", "bogus"], "--load-design"),
    Case("check-short-load", ["check", "v1", "v2", "--load-seconds", "5"], "--load-seconds"),
    Case("check-one-load-run", ["check", "v1", "v2", "--load-runs", "1"], "--load-runs"),
    Case("check-version-with-versions", ["check", "v1", "v2", "--version", "v1"], "--version"),
    Case("check-candidate-not-a-version", ["check", "v1", "v9"], "CANDIDATE"),
    Case("check-baseline-not-a-revision", ["check", "bogus-rev", "v2"], "BASELINE"),
    Case("check-report-exists", ["check", "v1", "v2", "--report", "r"], "--report", files={"r/keep": "x"}),
    Case(
        "check-report-under-a-file",
        ["check", "v1", "v2", "--report", "afile/r"],
        "--report",
        files={"afile": "x"},
    ),
    Case(
        "check-out-under-a-file", ["check", "v1", "v2", "--out", "afile/res"], "--out", files={"afile": "x"}
    ),
    Case(
        "check-pyproject-policy",
        ["check", "v1", "v2"],
        "alpha",
        files={"pyproject.toml": "[tool.mlgate.policy]\nalpha = 2\n"},
    ),
    Case(
        "check-history-corrupt",
        ["check", "v1", "v2"],
        HOST_FILE,
        files={f"results/calibration/{HOST_FILE}": "{"},
    ),
    Case("check-spec-missing", ["check", "v1", "v2", "--spec", "nope_module:spec"], "--spec"),
    Case("demo-out-under-a-file", ["demo", "--out", "afile/res"], "--out", files={"afile": "x"}),
    # --- init ---
    Case("init-not-a-git-repo", ["init"], "git"),
    Case("init-clash", ["init"], "asv.conf.json", files={**GIT, "asv.conf.json": "{}\n"}),
    Case("init-bad-spec", ["init", "--spec", "nope_module:spec"], "--spec", files=GIT),
    Case("init-pyproject-a-folder", ["init"], "pyproject.toml", files={**GIT, "pyproject.toml/x": ""}),
    Case("init-github-a-file", ["init"], ".github", files={**GIT, ".github": "x"}),
    Case("init-gitignore-not-utf8", ["init"], ".gitignore", files={**GIT, ".gitignore": b"\xff\xfe\x00"}),
    Case(
        "init-spec-build-raises", ["init", "--spec", "spec_user:broken_build"], "build", files={**GIT, **USER}
    ),
    Case("init-pyproject-not-toml", ["init"], "pyproject.toml", files={**GIT, "pyproject.toml": "[tool\n"}),
    # --- serve (the server must never start: see the fixture) ---
    Case("serve-artifact-missing", ["serve", "nope"], "nope"),
    Case("serve-port-too-high", ["serve", "{v1}", "--port", "70000"], "--port"),
    Case("serve-port-negative", ["serve", "{v1}", "--port", "-1"], "--port"),
    Case("serve-port-busy", ["serve", "{v1}", "--port", "{busy_port}"], "--port"),
    Case("serve-zero-workers", ["serve", "{v1}", "--workers", "0"], "--workers"),
    Case("serve-too-many-workers", ["serve", "{v1}", "--workers", "999"], "--workers"),
    Case("serve-zero-records", ["serve", "{v1}", "--max-records", "0"], "--max-records"),
    Case("serve-host-unresolvable", ["serve", "{v1}", "--host", "no.such.host.invalid"], "--host"),
    Case("serve-manifest-null", ["serve", "art"], "manifest.json", setup=artifact(manifest=None)),
    Case("serve-zip-bomb", ["serve", "art"], "model.skops", setup=model_file(zip_bomb)),
    Case(
        "serve-pickle-without-trust",
        ["serve", "art"],
        "--trust-pickle",
        setup=model_file(joblib_of_v1, "model.joblib"),
    ),
    # --- load (locust must never start: see the fixture) ---
    Case("load-no-host", ["load"], "--host"),
    Case("load-duet-one-host", ["load", "--duet", "--host", "http://127.0.0.1:9"], "--duet"),
    Case("load-host-not-a-url", ["load", "--host", "not a url"], "--host"),
    Case("load-host-remote", ["load", "--host", "http://192.0.2.1:8000"], "--allow-remote"),
    Case("load-baseline-host-alone", ["load", "--baseline-host", PLAIN_API], "--baseline-host"),
    Case("load-rate-inf", [*LOAD, "--rate", "inf"], "--rate"),
    Case("load-rate-nan", [*LOAD, "--rate", "nan"], "--rate"),
    Case("load-rate-negative", [*LOAD, "--rate", "-1"], "--rate"),
    Case("load-processes-999", [*LOAD, "--processes", "999"], "--processes"),
    Case("load-step-rates-not-numbers", [*LOAD, "--step-rates", "10,x"], "--step-rates"),
    Case("load-step-rates-negative", [*LOAD, "--step-rates", "10,-5"], "--step-rates"),
    Case(
        "load-step-seconds-zero",
        [*LOAD, "--step-rates", "10", "--step-seconds", "0"],
        "--step-seconds",
    ),
    Case("load-run-time-zero", [*LOAD, "--run-time", "0"], "--run-time"),
    Case("load-run-time-bogus", [*LOAD, "--run-time", "soon"], "--run-time"),
    Case("load-zero-users", [*LOAD, "--users", "0"], "--users"),
    Case("load-too-many-users", [*LOAD, "--users", "999"], "--users"),
    Case("load-warmup-too-long", [*LOAD, "--warmup", "30"], "--warmup"),
    Case("load-warmup-negative", [*LOAD, "--warmup", "-1"], "--warmup"),
    Case("load-spawn-rate-zero", [*LOAD, "--spawn-rate", "0"], "--spawn-rate"),
    Case("load-requests-negative", [*LOAD, "--requests", "-1"], "--requests"),
    Case("load-max-error-rate-above-one", [*LOAD, "--max-error-rate", "2"], "--max-error-rate"),
    Case("load-p95-negative", [*LOAD, "--p95-ms", "-1"], "--p95-ms"),
    Case("load-batch-size-zero", [*LOAD, "--batch-size", "0"], "--batch-size"),
    Case("load-data-missing", [*LOAD, "--data", "nope.csv"], "--data"),
    Case("load-locustfiles-missing", [*LOAD, "--locustfiles", "nope"], "--locustfiles"),
    Case("load-out-exists", [*LOAD, "--out", "o"], "--out", files={"o/keep": "x"}, absent="--force"),
]


# --- fixtures ----------------------------------------------------------------------------------


class _GarbageHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # the name http.server calls
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"<html>not json</html>")

    def log_message(self, *args: Any) -> None:
        pass  # quiet: stderr is what the tests read


@pytest.fixture(scope="module")
def garbage_api() -> Iterator[str]:
    """An HTTP server on loopback that answers every POST with a body that is not JSON."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GarbageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def never_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case that gets past validation fails at once instead of serving, loading or checking for real."""
    import uvicorn

    from mlgate.commands import check
    from mlgate.serving import locust_run as load

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("validation let this through: it would have started the real work")

    monkeypatch.setattr(uvicorn, "run", refuse)
    monkeypatch.setattr(check, "export_data", refuse)
    if hasattr(load, "interrupts"):  # locust runs as a child process through one function
        monkeypatch.setattr(load.interrupts, "run_child", refuse)
    else:
        monkeypatch.setattr(load, "run_once", refuse)


def snapshot(root: Path) -> dict[str, tuple[int, int] | None]:
    """Every path under ``root``: files with (size, mtime_ns), folders as None.

    A folder's own mtime is left out: a temporary file made and removed inside it changes it, and
    that leaves nothing behind.
    """
    tree: dict[str, tuple[int, int] | None] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        tree[str(path.relative_to(root))] = None if path.is_dir() else (info.st_size, info.st_mtime_ns)
    return tree


def prepare(case: Case, env: Env, fill: dict[str, str]) -> list[str]:
    for name, content in case.files.items():
        path = env.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup is not None:
        case.setup(env)
    return [arg.format(**fill) if "{" in arg else arg for arg in case.argv]


def check_contract(
    case: Case, code: int, out: str, err: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    lines = err.strip().splitlines()
    assert "Traceback" not in out + err, err
    assert code == 2, f"exit {code}; stderr: {err}"
    assert len(lines) == 1 and lines[0].strip(), f"expected one line, got {len(lines)}: {err!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert case.names in lines[0], f"{case.names!r} not named in: {lines[0]}"
    if case.absent:
        assert case.absent not in lines[0], f"names {case.absent!r}, which this command lacks: {lines[0]}"
    assert after == before, "the working folder changed"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    models: dict[str, Path],
    holdout_csv: Path,
    garbage_api: str,
    busy_port: int,
    never_start: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # specs import from the working folder
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # ... without leaving __pycache__ there
    env = Env(tmp_path, models, holdout_csv)
    fill = {
        "v1": str(models["v1"]),
        "v2": str(models["v2"]),
        "holdout": str(holdout_csv),
        "garbage_api": garbage_api,
        "busy_port": str(busy_port),
    }
    argv = prepare(case, env, fill)
    before = snapshot(tmp_path)
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    check_contract(case, code, out, err, before, snapshot(tmp_path))


def test_the_catalogue_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)


def test_a_long_message_is_one_line_however_narrow_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """rich would wrap at the console width; errors are printed with soft wrap, so they never are."""
    from mlgate.infra import console

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(console.err, "_width", 40)
    assert main(["data", "--format", "y" * 300]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and len(err.strip()) > 300


# --- the same through a real process -------------------------------------------------------------

SUBPROCESS_CASES = [
    Case("process-unknown-flag", ["train", "--out", "m", "--bogus"], "--bogus"),
    Case("process-long-message", ["data", "--format", "z" * 300], "--format"),
    Case("process-out-under-a-file", ["train", "--out", "afile/m"], "--out", files={"afile": "x"}),
    Case(
        "process-policy-out-of-range",
        ["compare", "a.csv", "b.csv", "--policy", "p.toml"],
        "quality.resamples",
        files={"p.toml": "[quality]\nresamples = 0\n", "a.csv": PRED_A, "b.csv": PRED_A},
    ),
    Case(
        "process-model-file-not-a-zip",
        ["predict", "art", "--data", "{holdout}", "--out", "p.csv"],
        "model.skops",
        setup=model_file(lambda path, _: path.write_bytes(b"PK but not a zip")),
    ),
]


@pytest.mark.slow  # real `mlgate` processes: 2-4 s each
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in SUBPROCESS_CASES])
def test_bad_input_in_a_real_process(
    case: Case, tmp_path: Path, models: dict[str, Path], holdout_csv: Path
) -> None:
    env = Env(tmp_path, models, holdout_csv)
    argv = prepare(case, env, {"v1": str(models["v1"]), "holdout": str(holdout_csv)})
    before = snapshot(tmp_path)
    # A narrow terminal width: rich must still print the error as one line.
    environ = {**os.environ, "COLUMNS": "40", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mlgate", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environ,
    )
    check_contract(case, result.returncode, result.stdout, result.stderr, before, snapshot(tmp_path))
