"""Probabilities -> metrics: loss, accuracy, precision, recall, F1, ROC-AUC, confusion matrix.

Computed with NumPy from labels and probabilities, and printed as a table; `reports.py` runs a
saved model on the IMDB test split or a user's file and adds breakdowns and pictures. The test
split is read only by `evaluate`, never during training or model selection.
"""

from __future__ import annotations

import numpy as np


def metrics(labels: np.ndarray, probs: np.ndarray, threshold: float = 0.5) -> dict:
    """Loss, accuracy, precision, recall, F1, ROC-AUC and [[tn, fp], [fn, tp]]."""
    y = np.asarray(labels).astype(int)
    p = np.asarray(probs, dtype=np.float64)
    pred = (p >= threshold).astype(int)
    tp = int(np.sum((pred == 1) & (y == 1)))
    tn = int(np.sum((pred == 0) & (y == 0)))
    fp = int(np.sum((pred == 1) & (y == 0)))
    fn = int(np.sum((pred == 0) & (y == 1)))
    eps = 1e-7  # Keras' clipping for binary cross-entropy
    pc = np.clip(p, eps, 1 - eps)
    loss = float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))) if len(y) else float("nan")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": int(len(y)),
        "loss": loss,
        "accuracy": (tp + tn) / len(y) if len(y) else float("nan"),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auc": roc_auc(y, p),
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties half."""
    y = np.asarray(labels).astype(int)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(y))
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first, counts):
        ranks[order[start:start + count]] = start + (count + 1) / 2
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def format_table(m: dict) -> str:
    (tn, fp), (fn, tp) = m["confusion_matrix"]
    rows = [("reviews", f"{m['n']:,}"), ("loss", f"{m['loss']:.4f}"),
            ("accuracy", f"{m['accuracy']:.4f}"), ("precision", f"{m['precision']:.4f}"),
            ("recall", f"{m['recall']:.4f}"), ("f1", f"{m['f1']:.4f}"),
            ("roc auc", f"{m['auc']:.4f}")]
    width = max(len(v) for _, v in rows)
    lines = [f"{k:<10} {v:>{width}}" for k, v in rows]
    w = max(len(f"{x:,}") for x in (tn, fp, fn, tp))
    lines += ["", "confusion matrix (rows: true, columns: predicted)",
              f"{'':<10} {'negative':>{max(w, 8)}} {'positive':>{max(w, 8)}}",
              f"{'negative':<10} {tn:>{max(w, 8)},} {fp:>{max(w, 8)},}",
              f"{'positive':<10} {fn:>{max(w, 8)},} {tp:>{max(w, 8)},}"]
    return "\n".join(lines)
