"""Probabilities + labels -> numbers: accuracy and the other metrics, by length, calibration.

    probability (per text) + label -> metrics (scikit-learn), accuracy by length, calibration

Pure functions of arrays, shared by evaluate, the reports and the pictures.
"""

from __future__ import annotations

import math

import numpy as np

from sentiment_rnn.errors import SentimentRNNError
from sentiment_rnn.nn.verdict import THRESHOLD, is_positive


LENGTH_EDGES = (25, 50, 100, 200, 400)  # upper ends of the length buckets, in tokens
CALIBRATION_BINS = 10  # equal-width bins of P(positive) for the calibration error and picture
ECE_NAME = (f"expected calibration error of P(positive) over {CALIBRATION_BINS} equal-width "
            f"bins")


def metrics(labels: np.ndarray, probs: np.ndarray, threshold: float = THRESHOLD) -> dict:
    """Log loss, accuracy, precision, recall, F1, ROC-AUC and [[tn, fp], [fn, tp]], all from
    scikit-learn. ROC-AUC is NaN when only one class is present."""
    from sklearn import metrics as sk

    y = np.asarray(labels).astype(int)
    p = np.asarray(probs, dtype=np.float64)
    if not np.isfinite(p).all():
        raise SentimentRNNError("the model gave a non-finite probability; its weights are "
                                "damaged")
    pred = is_positive(p, threshold).astype(int)
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        y, pred, average="binary", zero_division=0)
    auc = sk.roc_auc_score(y, p) if 0 < y.sum() < len(y) else float("nan")
    return {
        "n": int(len(y)),
        "loss": float(sk.log_loss(y, p, labels=[0, 1])) if len(y) else float("nan"),
        "accuracy": float(sk.accuracy_score(y, pred)) if len(y) else float("nan"),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "auc": float(auc),
        "confusion_matrix": sk.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }


def format_table(m: dict) -> str:
    (tn, fp), (fn, tp) = m["confusion_matrix"]
    rows = [("reviews", f"{m['n']:,}"), ("loss", f"{m['loss']:.4f}"),
            ("accuracy", f"{m['accuracy']:.4f}"), ("precision", f"{m['precision']:.4f}"),
            ("recall", f"{m['recall']:.4f}"), ("f1", f"{m['f1']:.4f}"),
            ("roc auc", f"{m['auc']:.4f}")]
    width = max(len(v) for _, v in rows)
    lines = [f"{k:<10} {v:>{width}}" for k, v in rows]
    w = max(8, *(len(f"{x:,}") for x in (tn, fp, fn, tp)))
    lines += ["", "confusion matrix (rows: true, columns: predicted)",
              f"{'':<10} {'negative':>{w}} {'positive':>{w}}",
              f"{'negative':<10} {tn:>{w},} {fp:>{w},}",
              f"{'positive':<10} {fn:>{w},} {tp:>{w},}"]
    return "\n".join(lines)


def length_buckets(n_tokens: np.ndarray, correct: np.ndarray) -> list[dict]:
    """Reviews and accuracy per length bucket (1-25, 26-50, ..., 401+ tokens); empty ones are
    left out."""
    edges = (0, *LENGTH_EDGES, math.inf)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (n_tokens > lo) & (n_tokens <= hi)
        if inside.any():
            rows.append({"tokens": f"{lo + 1}-{hi}" if hi < math.inf else f"{lo + 1}+",
                         "reviews": int(inside.sum()), "accuracy": float(correct[inside].mean())})
    return rows


def calibration_bins(labels: np.ndarray, probs: np.ndarray, bins: int = CALIBRATION_BINS):
    """Per equal-width bin of P(positive): reviews, mean P(positive), observed share of
    positives; empty bins are left out (as scikit-learn's calibration_curve does)."""
    probs = np.asarray(probs, dtype=np.float64)
    which = np.minimum((probs * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append({"from": b / bins, "to": (b + 1) / bins, "reviews": int(inside.sum()),
                         "mean_probability": float(probs[inside].mean()),
                         "positive_share": float(labels[inside].mean())})
    return rows


def expected_calibration_error(rows: list[dict]) -> float:
    """Sum over bins of (share of reviews in the bin) x |mean P(positive) - share positive|."""
    n = sum(r["reviews"] for r in rows)
    return sum(r["reviews"] / n * abs(r["mean_probability"] - r["positive_share"]) for r in rows)


def finite(value):
    """JSON has no NaN: nested floats that are not finite become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value
