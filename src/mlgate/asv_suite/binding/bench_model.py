"""The model: artifact size, quality for its task, same predictions as production (mlgate's suite)."""

from mlgate.asv_suite.model import ClassLogLoss, ClassQuality, ModelSize, Quality, SamePredictions

__all__ = ["ClassLogLoss", "ClassQuality", "ModelSize", "Quality", "SamePredictions"]
