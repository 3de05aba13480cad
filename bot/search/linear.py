"""The fitted models' one shape: a standardised linear score, and the logistic function that
turns a score into a probability (the weights are data, in `ranker.json`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def logistic(z: float) -> float:
    """The logistic function, safe for any z."""
    return float(1 / (1 + np.exp(-np.clip(z, -50, 50))))


@dataclass(frozen=True)
class Linear:
    """A standardised linear model: w · (x − mean) / scale + bias."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Linear:
        return cls(np.array(data["mean"]), np.array(data["scale"]), np.array(data["weights"]),
                   float(data.get("bias", 0.0)))
