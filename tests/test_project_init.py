"""`mlgate init` in a user's repo (a digits classifier mlgate does not ship), and `mlgate data --spec`."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlgate.commands import init as project_init
from mlgate.infra.errors import EXIT_USAGE
from mlgate.model.predicting import step_outputs
from scratch_repo import HERE, SPEC, make_repo, mlgate


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "digits")


@pytest.mark.slow  # real `mlgate` processes: seconds each
def test_init_writes_every_file_and_a_valid_workflow(repo: Path) -> None:
    result = mlgate(repo, "init", "--spec", SPEC)
    assert result.returncode == 0, result.stderr
    for path in (
        "asv.conf.json",
        "benchmarks/__init__.py",
        "benchmarks/bench_inference.py",
        "benchmarks/bench_model.py",
        "benchmarks/bench_instructions.py",
        "benchmarks/bench_training.py",
        "locustfiles/predict_users.py",
        "locustfiles/_open_loop.py",
        "locustfiles/_duet.py",
        ".github/workflows/mlgate.yml",
    ):
        assert (repo / path).is_file(), path
    assert f'model = "{SPEC}"' in (repo / "pyproject.toml").read_text()
    assert {"/results/", "/.asv/"} <= set((repo / ".gitignore").read_text().splitlines())
    assert f'"MLGATE_BENCH_SPEC", "{SPEC}"' in (repo / "benchmarks" / "__init__.py").read_text()

    config = json.loads((repo / "asv.conf.json").read_text())
    assert config["results_dir"] == "results/asv" and config["html_dir"] == "results/html"
    # This mlgate is an editable checkout: asv environments install it from there.
    assert str(Path(project_init.__file__).parents[3]) in config["build_command"][0]
    assert config["matrix"]["req"]["scikit-learn"]  # the spec's pipeline is made of scikit-learn
    assert config["launch_method"] == "forkserver"  # the suite imported once, not once per round

    workflow = repo / ".github" / "workflows" / "mlgate.yml"
    checked = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    steps = YAML(typ="safe").load(workflow.read_text())["jobs"]["release-check"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step]
    assert any("mlgate check" in s for s in scripts)
    for script in scripts:  # every shell step parses
        assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0, script

    # Run again unchanged: nothing to replace, so it succeeds and changes nothing.
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert mlgate(repo, "init").returncode == 0  # the spec now comes from pyproject
    assert before == {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}


@pytest.mark.slow  # real `mlgate` processes: seconds each
def test_init_never_overwrites_without_force(repo: Path) -> None:
    assert mlgate(repo, "init", "--spec", SPEC).returncode == 0
    edited = repo / "benchmarks" / "bench_model.py"
    edited.write_text("# my own benchmarks\n")
    config = (repo / "asv.conf.json").read_bytes()

    refused = mlgate(repo, "init", "--spec", SPEC)
    assert refused.returncode == EXIT_USAGE
    assert "benchmarks/bench_model.py" in refused.stderr and "--force" in refused.stderr
    assert edited.read_text() == "# my own benchmarks\n"
    assert (repo / "asv.conf.json").read_bytes() == config

    other = mlgate(repo, "init", "--spec", "digits_model.other:spec")
    assert other.returncode == EXIT_USAGE and "digits_model.other" in other.stderr  # does not import

    forced = mlgate(repo, "init", "--spec", SPEC, "--force")
    assert forced.returncode == 0 and "replaced benchmarks/bench_model.py" in forced.stdout
    assert "mlgate.asv_suite.model" in edited.read_text()


@pytest.mark.slow  # real `mlgate` processes: seconds each
def test_init_refuses_another_model_in_pyproject_and_a_folder_outside_git(repo: Path, tmp_path: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.mlgate]\nmodel = "mlgate.reference:spec"\n')
    refused = mlgate(repo, "init", "--spec", SPEC)
    assert refused.returncode == EXIT_USAGE and "pyproject.toml" in refused.stderr
    assert not (repo / "asv.conf.json").exists()  # nothing half-written

    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    outside = mlgate(plain, "init")
    assert outside.returncode == EXIT_USAGE and "git repository" in outside.stderr


def test_requirement_from_an_index_goes_into_asv_and_ci(repo: Path) -> None:
    config = json.loads(project_init.asv_config(repo, _digits_spec(repo), "mlgate==0.1.0"))
    assert config["build_command"][0].endswith("pip install --quiet mlgate==0.1.0")
    workflow = project_init.workflow(repo, "mlgate==0.1.0")
    assert 'pip install "mlgate==0.1.0"' in workflow and "installed from" not in workflow


@pytest.mark.slow  # real `mlgate` processes: seconds each
def test_data_exports_the_spec_files(repo: Path) -> None:
    assert mlgate(repo, "init", "--spec", SPEC).returncode == 0
    result = mlgate(repo, "data", "--out", "exported")
    assert result.returncode == 0, result.stderr
    train = pd.read_csv(repo / "exported" / "train.csv")
    assert {"image_id", "digit"} <= set(train.columns) and len(train) == 899
    assert mlgate(repo, "data", "--out", "exported").returncode == EXIT_USAGE  # never overwritten
    assert mlgate(repo, "data", "--out", "x", "--rows", "10").returncode == EXIT_USAGE  # reference-only flag


def test_array_steps_are_named_without_feature_name_warnings() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd"))
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("pca", PCA(n_components=2)), ("last", StandardScaler())]
    )
    pipeline.fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = dict(step_outputs(pipeline, frame, "test"))
    assert list(outputs["scale"].columns) == list("abcd")
    assert list(outputs["pca"].columns) == ["pca0", "pca1"]


def test_the_repos_benchmarks_are_the_shipped_binding() -> None:
    """mlgate's own benchmarks/ are what `mlgate init` writes, so the two never drift."""
    shipped = Path(project_init.__file__).parent.parent / "asv_suite" / "binding"
    for name in project_init.BENCH_FILES:
        assert (HERE.parent / "benchmarks" / name).read_text() == (shipped / name).read_text(), name


def _digits_spec(repo: Path) -> object:
    sys.path.insert(0, str(repo))
    try:
        from mlgate.model.spec import load_spec

        return load_spec(SPEC, repo)
    finally:
        sys.path.remove(str(repo))


@pytest.mark.slow  # real `mlgate` processes: seconds each
def test_train_without_a_version_trains_the_newest(repo: Path) -> None:
    result = mlgate(repo, "train", "--out", "m", "--spec", SPEC)
    assert result.returncode == 0, result.stderr
    assert json.loads((repo / "m" / "manifest.json").read_text())["version"] == "slow"  # the last listed


@pytest.mark.slow  # real `mlgate` processes: seconds each
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["v1", "nosuch"], "CANDIDATE: 'nosuch' is not a version of digits"),
        (["nosuch"], "BASELINE: 'nosuch' is neither a version of digits"),
        ([], "no git tag to compare with"),
        (["v1", "retrain", "--version", "v1"], "--version: BASELINE is a spec version"),
        (["v1", "retrain", "--skip", "serve"], "--skip: serve is not a step"),
        (["v1", "retrain", "--plan", "huge"], "--plan: 'huge' is not one of quick, full"),
    ],
)
def test_check_usage_errors_are_one_line_exit_2(repo: Path, args: list[str], says: str) -> None:
    assert mlgate(repo, "init", "--spec", SPEC).returncode == 0
    result = mlgate(repo, "check", *args)
    assert result.returncode == EXIT_USAGE and says in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # one message (rich may wrap a long line once)
    assert not (repo / "results" / "reports").exists()  # nothing written


def test_every_shipped_track_has_a_direction() -> None:
    """asv calls every number lower-is-better; mlgate must know which tracks are not."""
    import inspect

    from mlgate.asv_suite import inference, model
    from mlgate.checks.asv_timing import HIGHER_IS_BETTER_TRACKS, LOWER_IS_BETTER_TRACKS

    tracks = [
        name
        for module in (inference, model)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        for name in dir(cls)
        if name.startswith("track_")
    ]
    assert len(tracks) >= 9
    for name in tracks:
        assert name.endswith(HIGHER_IS_BETTER_TRACKS) != name.endswith(LOWER_IS_BETTER_TRACKS), name
