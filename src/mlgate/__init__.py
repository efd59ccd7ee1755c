"""mlgate: a benchmark suite that decides whether a model version may replace production."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgate.infra.errors import MlgateError

if TYPE_CHECKING:
    from mlgate.model.artifacts import Artifact
    from mlgate.model.spec import ModelSpec, load_spec

__version__ = "0.1.0"
__all__ = ["Artifact", "MlgateError", "ModelSpec", "__version__", "load_spec"]

# Importing scikit-learn takes seconds: `import mlgate` (the CLI, the locustfiles) must not pay for it
# until a name that needs it is used.
_LAZY = {
    "Artifact": "mlgate.model.artifacts",
    "ModelSpec": "mlgate.model.spec",
    "load_spec": "mlgate.model.spec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlgate' has no attribute {name!r}")
