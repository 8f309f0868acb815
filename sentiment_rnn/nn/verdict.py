"""probability -> verdict: the one threshold rule, used by training, evaluate, predict and serve.
"""

from __future__ import annotations

UNKNOWN = "unknown"  # the label of a text with no known word; it gets no probability
THRESHOLD = 0.5  # P(positive) >= THRESHOLD is positive, everywhere (training, evaluate, predict)


def is_positive(probability, threshold: float = THRESHOLD):
    """The one threshold rule: P >= threshold is positive. Works on a float, a NumPy array
    and a TensorFlow tensor alike."""
    return probability >= threshold


def label(probability: float, threshold: float = THRESHOLD) -> str:
    return "positive" if is_positive(probability, threshold) else "negative"
