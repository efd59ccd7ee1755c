"""The pytest plugin as a model repository uses it: a scratch project run by a real pytest process.

The project's model is scikit-learn's diabetes data with a Ridge regression (not the reference
model); its versions are a retrained copy (same predictions), a changed scaler (step parity) and a
clearly worse model (two weak features only).
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ["pytester"]

SPEC = """
from functools import cache

from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlgate import ModelSpec


@cache
def rows():
    frame = load_diabetes(as_frame=True).frame.sample(frac=1.0, random_state=0)
    frame.insert(0, "patient_id", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def build(version):
    if version == "weak":  # two uninformative columns only: clearly worse
        keep = ColumnTransformer([("keep", "passthrough", ["sex", "age"])])
        return Pipeline([("keep", keep), ("scaler", StandardScaler()), ("model", Ridge())])
    scaler = StandardScaler(with_mean=version != "unscaled_mean")
    return Pipeline([("scaler", scaler), ("model", Ridge())])


spec = ModelSpec(
    name="diabetes",
    task="regression",
    target="target",
    id_column="patient_id",
    versions=("v1", "unscaled_mean", "weak", "v1_again"),
    build=build,
    load_train=lambda: rows().iloc[:300],
    load_holdout=lambda: rows().iloc[300:],
)
"""

PYPROJECT = """
[tool.mlgate]
model = "diabetes_model:spec"

[tool.pytest.ini_options]
mlgate_baseline = "v1"
mlgate_candidate = "v1_again"
"""

GATES = """
import pytest

from mlgate.testing import (
    assert_feature_steps_equal,
    assert_no_regression,
    assert_quality_not_worse,
    assert_same_predictions,
)


def test_retrained_copy_is_no_regression(mlgate_compare):
    assert_no_regression(mlgate_compare)


def test_same_predictions_and_steps(mlgate_baseline, mlgate_candidate):
    assert_same_predictions(mlgate_baseline, mlgate_candidate)
    assert_feature_steps_equal(mlgate_baseline, mlgate_candidate)


@pytest.mark.mlgate_differential(candidate="weak")
def test_weak_model(mlgate_compare):
    assert_quality_not_worse(mlgate_compare, metric="rmse", margin=0.01)


@pytest.mark.mlgate_differential(candidate="weak")
def test_weak_model_gate(mlgate_compare):
    assert_no_regression(mlgate_compare)


@pytest.mark.mlgate_differential(candidate="unscaled_mean")
def test_changed_step(mlgate_baseline, mlgate_candidate):
    assert_feature_steps_equal(mlgate_baseline, mlgate_candidate)


@pytest.mark.mlgate_differential(candidate="v1")
def test_a_version_against_itself_is_two_trainings(mlgate_baseline, mlgate_candidate):
    assert mlgate_baseline != mlgate_candidate
    assert_same_predictions(mlgate_baseline, mlgate_candidate, rtol=0, atol=0)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(diabetes_model=SPEC)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    return pytester


@pytest.mark.slow
def test_passing_and_failing_gates(project: pytest.Pytester) -> None:
    project.makepyfile(test_gates=GATES)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    # The failure text is the report's own: the metric, its interval and the margin.
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: mlgate: weak vs v1: quality rmse worse beyond the margin",
            "*rmse * -> *% worse (99% CI *% to *%; margin 1.00%): worse beyond the margin",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*mlgate: weak vs v1: REGRESSION", "*quality rmse: rmse * worse (99% CI *% to *%; margin 1.00%)*"]
    )
    # The first differing step, its columns and rows, as `mlgate compare` names them.
    result.stdout.fnmatch_lines(
        ["*mlgate: feature parity: outputs change first at step 2 'scaler': changes * in * row(s)*"]
    )
    assert "def assert_no_regression" not in out  # the helpers' own code is not shown
    # The terminal summary lists each test's gates and verdicts.
    result.stdout.fnmatch_lines(
        [
            "*= mlgate gates =*",
            "PASSED *test_retrained_copy_is_no_regression",
            "    pass *report: v1_again vs v1: no regression*",
            "    pass *no regression: *",
            "FAILED *test_weak_model_gate",
            "    fail *no regression: weak vs v1: REGRESSION*",
        ]
    )
    properties = {
        (case.get("name"), prop.get("name")): prop.get("value")
        for case in ET.parse(project.path / "junit.xml").iter("testcase")
        for prop in case.iter("property")
    }
    assert properties[("test_retrained_copy_is_no_regression", "mlgate verdict")] == "pass"
    assert properties[("test_weak_model_gate", "mlgate verdict")] == "regression"
    assert properties[("test_weak_model", "mlgate quality rmse not worse")] == "fail"
    assert properties[("test_same_predictions_and_steps", "mlgate same predictions")] == "pass"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--mlgate-candidate", "v9"],
            "ERROR: mlgate: --mlgate-candidate: 'v9' is neither an artifact folder nor a version of "
            "diabetes (v1, unscaled_mean, weak, v1_again); name one of them",
        ),
        (
            ["--mlgate-spec", "no_such_module:spec"],
            "ERROR: mlgate: --mlgate-spec: cannot import module 'no_such_module'*",
        ),
        (
            ["--mlgate-policy", "missing.toml"],
            "ERROR: mlgate: --mlgate-policy: file *missing.toml does not exist*",
        ),
        (["--mlgate-baseline", "."], "ERROR: mlgate: --mlgate-baseline: * is not an artifact folder*"),
        (["--mlgate-data", "rows.csv"], "ERROR: mlgate: --mlgate-data: *rows.csv is not a file; give*"),
    ],
)
def test_bad_configuration_is_a_usage_error(project: pytest.Pytester, args: list[str], message: str) -> None:
    project.makepyfile(test_gate="def test_gate(mlgate_compare):\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


MARKER = "mlgate_differential"


@pytest.mark.slow
def test_bad_marker_and_bad_input_in_a_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_marker="""
        import pytest

        @pytest.mark.mlgate_differential("v2", canddiate="v2")
        def test_gate(mlgate_compare):
            pass
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: mlgate: *test_gate: @pytest.mark.mlgate_differential takes the keywords*"]
    )
    for keyword, message in (("policy", "file *p.toml does not exist"), ("data", "*rows.csv is not a file")):
        project.makepyfile(
            test_marker=f"""
            import pytest

            @pytest.mark.mlgate_differential({keyword}="{"p.toml" if keyword == "policy" else "rows.csv"}")
            def test_gate(mlgate_compare):
                pass
            """
        )
        result = project.runpytest_subprocess("-p", "no:cacheprovider")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"ERROR: mlgate: @pytest.mark.{MARKER}({keyword}=...): {message}*"])
    project.makepyfile(
        test_marker="""
        from mlgate.testing import assert_same_predictions

        def test_missing_file(mlgate_baseline):
            assert_same_predictions(mlgate_baseline, "no_such_predictions.csv")
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mlgate: b: *no_such_predictions.csv*"])
    assert "Traceback" not in result.stdout.str()


def test_inert_unless_used(pytester: pytest.Pytester) -> None:
    """A suite that uses no mlgate fixture or marker loads no model library and prints nothing of it."""
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            import sys

            def test_plain():
                assert "sklearn" not in sys.modules and "pandas" not in sys.modules
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.mlgate_differential(baseline=None, candidate=None, *"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "mlgate gates" not in result.stdout.str()
