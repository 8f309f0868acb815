"""evaluate.py: metrics from labels and probabilities, checked on hand-computed cases."""

import math

import numpy as np
import pytest

from sentiment_rnn.evaluate import format_table, metrics, roc_auc


def test_metrics_on_a_hand_computed_case():
    y = np.array([1, 1, 1, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1])
    m = metrics(y, p)
    assert m["confusion_matrix"] == [[2, 1], [1, 2]]
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    expected_loss = -np.mean(np.log([0.9, 0.8, 0.3, 0.4, 0.8, 0.9]))
    assert m["loss"] == pytest.approx(expected_loss)
    # 9 positive-negative pairs; the positive scores higher in 8 of them (0.3 < 0.6 fails)
    assert m["auc"] == pytest.approx(8 / 9)


def test_auc_counts_ties_as_half():
    assert roc_auc(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert roc_auc(np.array([1, 1, 0]), np.array([0.7, 0.5, 0.5])) == pytest.approx(0.75)
    assert math.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_table_shows_every_metric_and_the_confusion_matrix():
    table = format_table(metrics(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.4, 0.7])))
    assert table.splitlines() == [
        "reviews         4",
        "loss       0.6122",  # -mean(log [0.9, 0.8, 0.4, 0.3])
        "accuracy   0.5000",
        "precision  0.5000",
        "recall     0.5000",
        "f1         0.5000",
        "roc auc    0.7500",
        "",
        "confusion matrix (rows: true, columns: predicted)",
        "           negative positive",
        "negative          1        1",
        "positive          1        1",
    ]
