"""evaluation.py: metrics (scikit-learn) from labels and probabilities, on hand-computed cases."""

import math

import numpy as np
import pytest

from sentiment_rnn.evaluation.metrics import calibration_bins, expected_calibration_error, format_table, length_buckets, metrics


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


def test_auc_counts_ties_as_half_and_is_nan_for_one_class():
    assert metrics(np.array([1, 0]), np.array([0.5, 0.5]))["auc"] == pytest.approx(0.5)
    assert metrics(np.array([1, 1, 0]), np.array([0.7, 0.5, 0.5]))["auc"] == pytest.approx(0.75)
    assert math.isnan(metrics(np.array([1, 1]), np.array([0.2, 0.3]))["auc"])


def test_a_non_finite_probability_is_an_error_not_a_score():
    from sentiment_rnn.errors import SentimentRNNError

    with pytest.raises(SentimentRNNError, match="non-finite probability"):
        metrics(np.array([1, 0]), np.array([0.9, np.nan]))


def test_calibration_bins_ece_and_length_buckets_by_hand():
    rows = calibration_bins(np.array([0, 1, 1, 1]), np.array([0.05, 0.15, 0.95, 1.0]))
    assert rows == [
        {"from": 0.0, "to": 0.1, "reviews": 1, "mean_probability": 0.05, "positive_share": 0.0},
        {"from": 0.1, "to": 0.2, "reviews": 1, "mean_probability": 0.15, "positive_share": 1.0},
        {"from": 0.9, "to": 1.0, "reviews": 2, "mean_probability": 0.975, "positive_share": 1.0}]
    # (1/4)|0.05 - 0| + (1/4)|0.15 - 1| + (2/4)|0.975 - 1|
    assert expected_calibration_error(rows) == pytest.approx(0.0125 + 0.2125 + 0.0125)
    buckets = length_buckets(np.array([1, 25, 26, 400, 401, 5000]),
                             np.array([True, False, True, True, False, False]))
    assert buckets == [{"tokens": "1-25", "reviews": 2, "accuracy": 0.5},
                       {"tokens": "26-50", "reviews": 1, "accuracy": 1.0},
                       {"tokens": "201-400", "reviews": 1, "accuracy": 1.0},
                       {"tokens": "401+", "reviews": 2, "accuracy": 0.0}]


def test_calibration_bins_agree_with_scikit_learn():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    rows = calibration_bins(y, p)
    share, mean = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose([r["positive_share"] for r in rows], share)
    np.testing.assert_allclose([r["mean_probability"] for r in rows], mean)


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
