"""`mlgate init`: set a user's model repo up for mlgate (asv, locust, pyproject, CI), never overwriting."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlgate.infra import atomic
from mlgate.infra.errors import MlgateError
from mlgate.model.spec import ModelSpec, load_spec, spec_reference

BENCH_FILES = ("bench_inference.py", "bench_instructions.py", "bench_model.py", "bench_training.py")
LOCUST_FILES = ("predict_users.py", "_open_loop.py", "_duet.py")
PRODUCTION_ARTIFACT = "results/models/production"
IGNORED = ("/results/", "/.asv/")
WORKFLOW = Path(".github/workflows/mlgate.yml")


@dataclass(frozen=True)
class Planned:
    path: Path
    text: str
    replaces: bool  # the file exists and this write would replace it (only with --force)
    unchanged: bool = False  # the file already holds exactly this text


def run(root: Path, spec_ref: str | None, force: bool, mlgate_requirement: str | None = None) -> list[str]:
    """Write mlgate's files into the repo at ``root``; return one line per file written."""
    if not (root / ".git").exists():
        raise MlgateError(
            f"{root} is not the root of a git repository; run `mlgate init` at your repo's root"
        )
    reference, _ = spec_reference(spec_ref, root)
    spec = load_spec(reference, root)  # fails here, before anything is written, if the spec is wrong
    requirement = mlgate_requirement or installed_requirement()
    planned = [
        _planned(root, Path("asv.conf.json"), asv_config(root, spec, requirement)),
        _planned(root, Path("benchmarks/__init__.py"), bench_init(reference)),
        *(
            _planned(root, Path("benchmarks") / name, _shipped("mlgate.asv_suite.binding", name))
            for name in BENCH_FILES
        ),
        *(
            _planned(root, Path("locustfiles") / name, _shipped("mlgate.locust.files", name))
            for name in LOCUST_FILES
        ),
        _planned(root, WORKFLOW, workflow(root, requirement)),
        _pyproject(root, reference, force),
    ]
    _check_places(root, [p.path for p in planned] + [Path(".gitignore")])
    clashes = [p for p in planned if p.replaces]
    if clashes and not force:
        names = ", ".join(str(p.path) for p in clashes)
        raise MlgateError(f"{names} already exist(s); move them aside or pass --force to replace them")
    done = []
    for p in planned:
        if p.unchanged:
            done.append(f"unchanged {p.path}")
            continue
        target = root / p.path
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(target, p.text)
        done.append(f"{'replaced' if p.replaces else 'wrote'} {p.path}")
    if _add_ignores(root):
        done.append(f"added {', '.join(IGNORED)} to .gitignore")
    return done


def _check_places(root: Path, paths: list[Path]) -> None:
    """Every file can be written where it goes, checked before the first one is: no half a setup."""
    for path in paths:
        if (root / path).is_dir():
            raise MlgateError(f"{path} is a folder where mlgate writes a file; move it aside and rerun")
        for parent in path.parents:
            if parent != Path() and (root / parent).exists() and not (root / parent).is_dir():
                raise MlgateError(
                    f"{parent} is a file where mlgate needs a folder for {path}; move it aside and rerun"
                )
    ignore = root / ".gitignore"
    if ignore.is_file():
        try:
            ignore.read_text(encoding="utf-8")  # read again when the ignores are added, after the writes
        except (OSError, UnicodeDecodeError) as exc:
            raise MlgateError(f".gitignore: cannot read it as UTF-8 text ({exc}); fix it and rerun") from exc


def _planned(root: Path, path: Path, text: str) -> Planned:
    existing = root / path
    same = existing.is_file() and existing.read_bytes() == text.encode("utf-8")
    return Planned(path, text, existing.exists() and not same, same)


def _shipped(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def installed_requirement() -> str:
    """How an asv environment installs this mlgate: its local checkout or wheel, else name==version."""
    dist = metadata.distribution("mlgate")
    direct = dist.read_text("direct_url.json")
    if direct:
        url = json.loads(direct).get("url", "")
        if url.startswith("file://"):
            return unquote(urlparse(url).path)
    return f"mlgate=={dist.version}"


def bench_init(reference: str) -> str:
    return f'''"""asv benchmarks of this repo's model: mlgate's suite (mlgate.asv_suite) bound to its spec.

MLGATE_BASELINE_ARTIFACT names the production artifact whose predictions SamePredictions compares with.
"""

import os
from pathlib import Path

os.environ.setdefault("MLGATE_BENCH_SPEC", "{reference}")
os.environ.setdefault(
    "MLGATE_BASELINE_ARTIFACT", str(Path(__file__).resolve().parent.parent / "{PRODUCTION_ARTIFACT}")
)
'''


def asv_config(root: Path, spec: ModelSpec, requirement: str) -> str:
    """asv.conf.json: a virtualenv per Python that holds mlgate and, at each commit, this repo's tree."""
    config = {
        "version": 1,
        "project": root.resolve().name,
        "project_url": "",
        "repo": ".",
        "branches": [_branch(root)],
        "environment_type": "virtualenv",
        "pythons": [f"{sys.version_info.major}.{sys.version_info.minor}"],
        "benchmark_dir": "benchmarks",
        "env_dir": ".asv/env",
        "results_dir": "results/asv",
        "html_dir": "results/html",
        "build_cache_size": 8,
        # One process imports the suite (scikit-learn, the spec) and forks each benchmark round from
        # it: the full suite took 440 s with a fresh interpreter per round (docs/design.md, asv).
        "launch_method": "forkserver",
        # mlgate goes in with pip (asv's matrix cannot name a local path or wheel); the repo's tree is
        # copied per commit and put on the path, so it needs no build backend (asv_integration.project).
        "build_command": [
            f"in-dir={{env_dir}} python -m pip install --quiet {requirement}",
            "python -m mlgate.asv_integration.project build {build_dir} {build_cache_dir}",
        ],
        "install_command": ["python -m mlgate.asv_integration.project install {build_cache_dir}"],
        "uninstall_command": ["return-code=any python -m mlgate.asv_integration.project uninstall"],
        "matrix": {"req": model_requirements(spec)},
    }
    return json.dumps(config, indent=4) + "\n"


def model_requirements(spec: ModelSpec) -> dict[str, str]:
    """Pinned versions of the packages the spec's pipeline is made of (as installed here)."""
    pipeline = spec.pipeline(spec.versions[-1])
    modules = {"numpy", "pandas", "sklearn"}
    for value in [pipeline, *pipeline.get_params(deep=True).values()]:
        modules.add(type(value).__module__.split(".")[0])
    names = metadata.packages_distributions()
    pins = {}
    for module in sorted(modules):
        for dist in names.get(module, []):
            if dist != "mlgate":
                pins[dist] = metadata.version(dist)
    return dict(sorted(pins.items()))


def _branch(root: Path) -> str:
    result = subprocess.run(
        ["git", "symbolic-ref", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "main"


def workflow(root: Path, requirement: str) -> str:
    """The CI gate: the release check on a tag or pull request, its report in the job summary."""
    local = not requirement.startswith("mlgate")
    pip = f"mlgate=={metadata.version('mlgate')}" if local else requirement
    note = (
        f"\n          # mlgate was installed from {requirement} when this was written: install it from\n"
        "          # your index or a git URL here and in asv.conf.json's build_command (or rerun\n"
        "          # `mlgate init --force --mlgate-requirement REQ`) if it is not on PyPI."
        if local
        else ""
    )
    install_project = "python -m pip install -e ." if _installable(root) else ""
    template = _shipped("mlgate.commands", "workflow_template.yml")
    return (
        template.replace("@NOTE@", note)
        .replace("@PIP@", pip)
        .replace("@INSTALL@", install_project or "true  # the repo is not a package")
    )


def _installable(root: Path) -> bool:
    path = root / "pyproject.toml"
    return (root / "setup.py").is_file() or (
        path.is_file() and "[project]" in path.read_text(encoding="utf-8")
    )


def _pyproject(root: Path, reference: str, force: bool) -> Planned:
    """pyproject.toml with ``[tool.mlgate] model``: added to the file, or replaced with --force."""
    path = root / "pyproject.toml"
    block = f'[tool.mlgate]\nmodel = "{reference}"\n'
    if not path.is_file():
        return Planned(Path("pyproject.toml"), block, False)
    text = path.read_text(encoding="utf-8")
    if not re.search(r"^\[tool\.mlgate\]", text, re.MULTILINE):
        return Planned(Path("pyproject.toml"), text.rstrip("\n") + "\n\n" + block, False)
    current = re.search(r'^\[tool\.mlgate\]\s*\nmodel\s*=\s*"([^"]*)"', text, re.MULTILINE)
    if current and current.group(1) == reference:
        return Planned(Path("pyproject.toml"), text, False, True)
    replaced = re.sub(r"^\[tool\.mlgate\]\s*\n(model\s*=.*\n)?", block, text, count=1, flags=re.MULTILINE)
    return Planned(Path("pyproject.toml"), replaced, True)


def _add_ignores(root: Path) -> bool:
    path = root / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    missing = [line for line in IGNORED if line not in text.splitlines()]
    if missing:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        atomic.write_text(
            path, prefix + "# mlgate: results and asv environments\n" + "\n".join(missing) + "\n"
        )
    return bool(missing)
