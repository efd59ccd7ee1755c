"""mlgate: a benchmark suite that decides whether a model version may replace production."""

from __future__ import annotations

from mlgate.artifacts import Artifact
from mlgate.errors import MlgateError
from mlgate.spec import ModelSpec, load_spec

__version__ = "0.1.0"
__all__ = ["Artifact", "MlgateError", "ModelSpec", "__version__", "load_spec"]
