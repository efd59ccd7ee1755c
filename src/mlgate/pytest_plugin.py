"""mlgate's pytest plugin (entry point ``pytest11``): differential tests in a model repo's own suite.

Inert unless used: this module imports nothing heavy, and only a test that asks for an ``mlgate_*``
fixture or carries the ``mlgate_differential`` marker loads the spec, trains or compares. Settings
come from the command line (``--mlgate-baseline``), else the ini file (``mlgate_baseline =``), else
the defaults: the spec named by ``[tool.mlgate] model``, its two newest versions trained on the fly
once per session. A setting that cannot work (a spec that does not import, a version the spec does
not have, a missing artifact or policy file) stops the run at collection with one usage-error line.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlgate import testing
from mlgate.infra.errors import MlgateError

if TYPE_CHECKING:
    from mlgate.model.spec import ModelSpec
    from mlgate.policy import Policy
    from mlgate.report.model import Report

MARKER = "mlgate_differential"
FIXTURES = ("mlgate_spec", "mlgate_baseline", "mlgate_candidate", "mlgate_compare")
MARKER_KEYS = ("baseline", "candidate", "policy", "data")
SETTINGS = {
    "spec": "model spec as MODULE:OBJECT (default: [tool.mlgate] model in pyproject.toml)",
    "baseline": "baseline: an artifact folder or a version of the spec (default: the second newest)",
    "candidate": "candidate: an artifact folder or a version of the spec (default: the newest)",
    "policy": "policy TOML file over [tool.mlgate.policy]",
    "data": "labelled rows (.csv/.parquet) to compare on (default: the spec's holdout)",
    "report_dir": "folder for each comparison's report files (default: under pytest's temporary folder)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlgate", "mlgate: differential tests of model versions")
    for name, text in SETTINGS.items():
        group.addoption(f"--mlgate-{name.replace('_', '-')}", dest=f"mlgate_{name}", default=None, help=text)
        parser.addini(f"mlgate_{name}", text, default=None)
    group.addoption(
        "--mlgate-trust-pickle",
        action="store_true",
        help="also load pickle/joblib artifacts: unpickling CAN RUN ARBITRARY CODE",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(baseline=None, candidate=None, policy=None, data=None): a differential test of two "
        "model versions; the keywords override the mlgate settings for this test",
    )
    config.stash[_GATES] = Gates(config)


@dataclass
class Outcome:
    """One test's mlgate gates, for the terminal summary."""

    nodeid: str
    gates: list[testing.Gate] = field(default_factory=list)
    outcome: str = ""


class Gates:
    """The session's settings, spec, trained versions and reports (each made once)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.root = config.rootpath
        self._spec: ModelSpec | None = None
        self.artifacts: dict[tuple[str, str], Path] = {}  # (version, role): one training each
        self.reports: dict[tuple[str, ...], Report] = {}
        self.outcomes: dict[str, Outcome] = {}

    def setting(self, name: str) -> str | None:
        value = self.config.getoption(f"mlgate_{name}") or self.config.getini(f"mlgate_{name}")
        return str(value) if value else None

    def source(self, name: str) -> str:
        """Where a setting comes from, as the user would fix it."""
        flag = f"--mlgate-{name.replace('_', '-')}"
        return flag if self.config.getoption(f"mlgate_{name}") else f"ini mlgate_{name} (or {flag})"

    def renamed(self, message: str) -> str:
        """A message of the CLI's readers names its flag (``--spec:``); here, the plugin's setting."""
        for name in ("spec", "policy", "data"):
            if message.startswith(f"--{name}:"):
                return self.source(name) + message.removeprefix(f"--{name}")
        return message

    @property
    def spec_ref(self) -> str:
        from mlgate.model.spec import spec_reference

        return spec_reference(self.setting("spec"), self.root)[0]

    @property
    def spec(self) -> ModelSpec:
        from mlgate.model.spec import load_spec

        if self._spec is None:
            self._spec = load_spec(self.setting("spec"), self.root)
        return self._spec

    def version_or_path(self, role: str, marker: pytest.Mark | None) -> tuple[str, str]:
        """(reference, where it was named) of the baseline or candidate for one test."""
        if marker is not None and marker.kwargs.get(role):
            return str(marker.kwargs[role]), f"@pytest.mark.{MARKER}({role}=...)"
        value = self.setting(role)
        if value:
            return value, self.source(role)
        versions = self.spec.versions
        if len(versions) < 2:
            raise MlgateError(
                f"{self.source(role)}: {self.spec.name} has one version ({versions[0]}); name the "
                f"{role}: a version of the spec or an artifact folder"
            )
        return (versions[-2] if role == "baseline" else versions[-1]), "the spec's versions"

    def check(self, reference: str, where: str) -> None:
        """Refuse, before any test runs, a reference that is neither an artifact nor a version."""
        from mlgate.evidence.predictions import is_artifact

        path = self._path(reference)
        if path.exists() and not is_artifact(path):
            raise MlgateError(f"{where}: {path} is not an artifact folder (no manifest.json); train it first")
        if not path.exists() and reference not in self.spec.versions:
            raise MlgateError(
                f"{where}: {reference!r} is neither an artifact folder nor a version of {self.spec.name} "
                f"({', '.join(self.spec.versions)}); name one of them"
            )

    def artifact(self, reference: str, role: str, where: str, folder: pytest.TempPathFactory) -> Path:
        """An artifact folder as given, or the spec's version trained once this session per role.

        Per role, so a version compared with itself is two trainings (does retraining reproduce
        it?), never one folder compared with itself."""
        from mlgate.model import workflow

        self.check(reference, where)
        path = self._path(reference)
        if path.exists():
            return path
        if (reference, role) not in self.artifacts:
            out = folder.mktemp(f"mlgate-{role}") / reference
            workflow.train_artifact(self.spec_ref, reference, out)
            self.artifacts[reference, role] = out
        return self.artifacts[reference, role]

    def policy(self, override: str | None) -> Policy:
        from mlgate.policy import read_policy

        chosen = override or self.setting("policy")
        try:
            return read_policy(self._path(chosen) if chosen else None, self.root)
        except MlgateError as exc:
            raise self._from_marker(exc, "policy", override) from None

    def data(self, override: str | None) -> Path | None:
        """The rows to compare on; a path that is not a file is refused before any training."""
        chosen = override or self.setting("data")
        if not chosen:
            return None
        path = self._path(chosen)
        if not path.is_file():
            where = f"@pytest.mark.{MARKER}(data=...)" if override else self.source("data")
            raise MlgateError(f"{where}: {path} is not a file; give labelled rows (.csv or .parquet)")
        return path

    def _from_marker(self, exc: MlgateError, name: str, override: str | None) -> MlgateError:
        """An error of a reader, named after the marker keyword when that is where the value came from."""
        message = str(exc)
        if override and message.startswith(f"--{name}:"):
            return MlgateError(f"@pytest.mark.{MARKER}({name}=...)" + message.removeprefix(f"--{name}"))
        return exc

    def report(
        self, base: Path, cand: Path, marker: pytest.Mark | None, folder: pytest.TempPathFactory
    ) -> Report:
        """``mlgate compare`` of two artifacts (once a session), its files written to the report folder."""
        from mlgate import compare
        from mlgate.evidence import Evidence
        from mlgate.report import files

        kwargs = marker.kwargs if marker is not None else {}
        policy_file, data = kwargs.get("policy"), kwargs.get("data")
        key = (str(base), str(cand), str(policy_file), str(data))
        if key not in self.reports:
            evidence = Evidence(
                base,
                cand,
                self.spec,
                self.data(data),
                trust_pickle=bool(self.config.getoption("mlgate_trust_pickle")),
            )
            report = compare.run(evidence, self.policy(policy_file))
            chosen = self.setting("report_dir")
            root = self._path(chosen) if chosen else folder.getbasetemp() / "mlgate-reports"
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{report.baseline}-vs-{report.candidate}")
            target, k = root / name, 2
            while target.exists():
                target, k = root / f"{name}-{k}", k + 1
            report.meta["report_folder"] = str(target)
            files.write(report, target)
            self.reports[key] = report
        return self.reports[key]

    def _path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.root / path


_GATES = pytest.StashKey[Gates]()


def _gates(request: pytest.FixtureRequest) -> Gates:
    return request.config.stash[_GATES]


def _marker(item: pytest.Item) -> pytest.Mark | None:
    return item.get_closest_marker(MARKER)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check the settings of every test that uses mlgate, once, before any test runs."""
    gates = config.stash[_GATES]
    users = [
        i for i in items if _marker(i) is not None or set(FIXTURES) & set(getattr(i, "fixturenames", ()))
    ]
    if not users:
        return
    try:
        gates.spec  # noqa: B018 - imports the spec now, so a bad one is a usage error
        for item in users:
            marker = _marker(item)
            unknown = set(marker.kwargs) - set(MARKER_KEYS) if marker is not None else set()
            if unknown or (marker is not None and marker.args):
                raise MlgateError(
                    f"{item.nodeid}: @pytest.mark.{MARKER} takes the keywords {', '.join(MARKER_KEYS)} "
                    f"only (got {', '.join(sorted(unknown)) or 'positional arguments'})"
                )
            keywords = marker.kwargs if marker is not None else {}
            gates.policy(str(keywords["policy"]) if keywords.get("policy") else None)
            gates.data(str(keywords["data"]) if keywords.get("data") else None)
            for role in ("baseline", "candidate"):
                gates.check(*gates.version_or_path(role, marker))
    except MlgateError as exc:
        raise pytest.UsageError(f"mlgate: {gates.renamed(str(exc))}") from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Collect what the test's assertions judged; an mlgate input error is one line, not a traceback."""
    testing.gates.clear()
    try:
        return (yield)
    except MlgateError as exc:
        pytest.fail(f"mlgate: {exc}", pytrace=False)
    finally:
        if testing.gates:
            outcome = item.config.stash[_GATES].outcomes.setdefault(item.nodeid, Outcome(item.nodeid))
            outcome.gates += testing.gates
            item.user_properties += [(f"mlgate {g.name}", g.verdict) for g in testing.gates]
            testing.gates.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    outcome = item.config.stash[_GATES].outcomes.get(item.nodeid)
    if outcome is not None and (report.when == "call" or report.failed):
        outcome.outcome = report.outcome if report.when == "call" else f"error in {report.when}"
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """A section listing each test's gates and their verdicts (only when a test used mlgate)."""
    outcomes = config.stash[_GATES].outcomes
    if not outcomes:
        return
    terminalreporter.section("mlgate gates")
    for outcome in outcomes.values():
        terminalreporter.line(f"{outcome.outcome.upper() or 'NOT RUN'} {outcome.nodeid}")
        for gate in outcome.gates:
            terminalreporter.line(f"    {gate.verdict:<12} {gate.name}: {gate.detail}")


def _usage(request: pytest.FixtureRequest, exc: MlgateError) -> None:
    pytest.fail(f"mlgate: {_gates(request).renamed(str(exc))}", pytrace=False)


@pytest.fixture(scope="session")
def mlgate_spec(request: pytest.FixtureRequest) -> ModelSpec:
    """The model spec: ``--mlgate-spec``, ini ``mlgate_spec``, else ``[tool.mlgate] model``."""
    try:
        return _gates(request).spec
    except MlgateError as exc:
        _usage(request, exc)
        raise


def _side(request: pytest.FixtureRequest, role: str) -> Path:
    gates = _gates(request)
    factory = request.getfixturevalue("tmp_path_factory")
    try:
        reference, where = gates.version_or_path(role, _marker(request.node))
        return gates.artifact(reference, role, where, factory)
    except MlgateError as exc:
        _usage(request, exc)
        raise


@pytest.fixture
def mlgate_baseline(request: pytest.FixtureRequest) -> Path:
    """The baseline's artifact folder (trained once a session when named by version)."""
    return _side(request, "baseline")


@pytest.fixture
def mlgate_candidate(request: pytest.FixtureRequest) -> Path:
    """The candidate's artifact folder (trained once a session when named by version)."""
    return _side(request, "candidate")


@pytest.fixture
def mlgate_compare(request: pytest.FixtureRequest, mlgate_baseline: Path, mlgate_candidate: Path) -> Report:
    """The report of ``mlgate compare BASELINE CANDIDATE`` (once a session per pair and policy)."""
    gates = _gates(request)
    factory = request.getfixturevalue("tmp_path_factory")
    try:
        report = gates.report(mlgate_baseline, mlgate_candidate, _marker(request.node), factory)
    except MlgateError as exc:
        _usage(request, exc)
        raise
    from mlgate.report.text import headline

    outcome = gates.outcomes.setdefault(request.node.nodeid, Outcome(request.node.nodeid))
    outcome.gates.append(
        testing.Gate("report", report.verdict, f"{headline(report)}; {report.meta['report_folder']}")
    )
    request.node.user_properties += [
        ("mlgate verdict", report.verdict),
        ("mlgate baseline", report.baseline),
        ("mlgate candidate", report.candidate),
        ("mlgate report", report.meta["report_folder"]),
    ]
    return report
