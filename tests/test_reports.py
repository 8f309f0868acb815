"""reports.py and baselines.py: evaluation reports, pictures, learning curves and baselines."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_rnn.baselines import LogisticRegression, fit_logistic_regression, log_loss, multi_hot
from sentiment_rnn.cli import main
from sentiment_rnn.reports import (calibration_bins, length_buckets, roc_curve,
                                   write_learning_curves)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def assert_png(path, height, width):
    """A valid PNG of exactly this many pixels, not blank."""
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels[..., :3].std() > 0.05  # something is drawn


# --- pictures ---------------------------------------------------------------------------------

def test_train_writes_learning_curves_into_the_run_folder(trained_run):
    assert_png(trained_run / "learning_curves.png", 360, 900)


def test_learning_curves_from_a_history_say_where_they_went(tmp_path):
    history = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 0.5 / e, "val_loss": 1.2 / e,
                "val_accuracy": 0.9 - 0.5 / e, "seconds": 1.0} for e in range(1, 5)]
    said = []
    path = write_learning_curves(history, tmp_path / "curves.png", said.append)
    assert path == tmp_path / "curves.png"
    assert said == [f"Learning curves: {path}"]
    assert_png(path, 360, 900)
    assert write_learning_curves([], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]  # no temporary file left


def test_report_on_the_imdb_split(trained_run, tiny_data_dir, tmp_path):
    folder = tmp_path / "report" / "new"
    result = invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir, "--report",
                    folder)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "IMDB test split"
    assert result.output.endswith(f"\nReport: {folder}/ (metrics.json, confusion_matrix.png, "
                                  f"roc_curve.png, calibration.png)\n")
    assert sorted(p.name for p in folder.iterdir()) == ["calibration.png", "confusion_matrix.png",
                                                       "metrics.json", "roc_curve.png"]
    plain = json.loads(invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                              "--json").output)
    saved = json.loads((folder / "metrics.json").read_text())
    assert {k: saved[k] for k in plain} == plain
    assert (saved["model"], saved["data"], saved["threshold"]) == (str(trained_run),
                                                                   "IMDB test split", 0.5)
    assert sum(b["reviews"] for b in saved["calibration"]["bins"]) == 20
    assert_png(folder / "confusion_matrix.png", 400, 450)
    assert_png(folder / "roc_curve.png", 400, 500)
    assert_png(folder / "calibration.png", 500, 500)


def test_report_on_a_file_with_one_class_writes_null_auc(trained_run, tmp_path):
    path = tmp_path / "pos.jsonl"
    path.write_text('{"label": "pos", "text": "great fun"}\n'
                    '{"label": "pos", "text": "boring awful"}\n')
    result = invoke("evaluate", "--model", trained_run, "--data", path, "--report", tmp_path / "r",
                    "--json")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert saved["auc"] is None and json.loads(result.output)["auc"] is None
    assert saved["confusion_matrix"] == [[0, 0], [1, 1]]
    assert saved["by_length"] == [{"tokens": "1-25", "reviews": 2, "accuracy": 0.5}]
    assert saved["data"] == f"Data: {path} (JSONL, 2 labelled texts)"
    assert_png(tmp_path / "r" / "roc_curve.png", 400, 500)


def test_roc_curve_by_hand():
    fpr, tpr = roc_curve(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.8, 0.1]))
    # thresholds 0.9, 0.8 (a tie: one positive, one negative), 0.1
    assert fpr.tolist() == [0, 0, 0.5, 1]
    assert tpr.tolist() == [0, 0.5, 1, 1]


def test_calibration_bins_and_length_buckets_by_hand():
    rows = calibration_bins(np.array([0, 1, 1, 1]), np.array([0.05, 0.15, 0.95, 1.0]))
    assert rows == [
        {"from": 0.0, "to": 0.1, "reviews": 1, "mean_probability": 0.05, "positive_share": 0.0},
        {"from": 0.1, "to": 0.2, "reviews": 1, "mean_probability": 0.15, "positive_share": 1.0},
        {"from": 0.9, "to": 1.0, "reviews": 2, "mean_probability": 0.975, "positive_share": 1.0}]
    buckets = length_buckets(np.array([1, 25, 26, 400, 401, 5000]),
                             np.array([True, False, True, True, False, False]))
    assert buckets == [{"tokens": "1-25", "reviews": 2, "accuracy": 0.5},
                       {"tokens": "26-50", "reviews": 1, "accuracy": 1.0},
                       {"tokens": "201-400", "reviews": 1, "accuracy": 1.0},
                       {"tokens": "401+", "reviews": 2, "accuracy": 0.0}]


# --- baselines --------------------------------------------------------------------------------

def test_multi_hot_counts_each_word_once_and_skips_padding():
    rows, cols = multi_hot(np.array([[0, 0, 5, 3, 5], [0, 0, 0, 0, 0], [2, 2, 2, 4, 1]]))
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 3), (0, 5), (2, 1), (2, 2), (2, 4)]


def test_logistic_regression_learns_the_words_and_is_deterministic():
    ids = np.array([[0, 2, 4], [3, 4, 4], [2, 2, 5], [0, 3, 5]] * 5)
    y = np.array([1, 0, 1, 0] * 5)  # word 2 is positive, word 3 negative, 4 and 5 neutral
    a = LogisticRegression.fit(ids, y, vocab_size=6, l2=1e-3)
    b = LogisticRegression.fit(ids, y, vocab_size=6, l2=1e-3)
    np.testing.assert_array_equal(a.w, b.w)
    assert a.w[2] > 1 > -1 > a.w[3]
    assert (a.predict_proba(ids) >= 0.5).tolist() == (y == 1).tolist()
    assert a.w[0] == a.w[1] == 0  # padding and OOV never appear here: only L2 acts on them


def test_the_l2_strength_is_chosen_on_validation_only():
    ids = np.array([[2, 4], [3, 4], [2, 5], [3, 5], [2, 3]] * 4)
    y = np.array([1, 0, 1, 0, 1] * 4)
    x_val, y_val = np.array([[2, 3], [4, 5]]), np.array([0, 1])  # disagrees with training
    grid = (1e-3, 1.0)
    chosen = fit_logistic_regression(ids, y, x_val, y_val, 6, grid)
    losses = {l2: log_loss(y_val, LogisticRegression.fit(ids, y, 6, l2).predict_proba(x_val))
              for l2 in grid}
    assert chosen.l2 == min(losses, key=losses.get) == 1.0


def test_evaluate_baselines_on_the_imdb_split(trained_run, tiny_data_dir):
    result = invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                    "--baselines")
    assert result.exit_code == 0, result.output
    table = result.output.split("baselines on the same data (trained on the run's training "
                                "part)\n")[1].splitlines()
    assert [row.split("  ")[0] for row in table] == [
        "model", "RNN (this model)", "majority class (positive)",
        "bag of words + logistic regression (L2 1e-05)"]
    assert table[2].split()[-4:] == ["0.5000", "0.6667", "0.5000", "0.6931"]
    out = json.loads(invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                            "--baselines", "--json").output)
    majority, lr = out["baselines"]["majority_class"], out["baselines"]["logistic_regression"]
    assert (majority["class"], majority["train_positive_share"]) == ("positive", 0.5)
    assert majority["metrics"]["confusion_matrix"] == [[0, 10], [0, 10]]
    assert (lr["train_reviews"], lr["chosen_on_validation_reviews"]) == (48, 12)
    assert lr["metrics"]["accuracy"] == 1.0  # the tiny corpus is separable word by word


def test_evaluate_baselines_on_a_file(trained_run, tiny_data_dir, tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("1\tgreat fun\n0\tboring awful\n0\tthe worst\n")
    out = json.loads(invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                            "--data", path, "--baselines", "--json").output)
    assert out["baselines"]["majority_class"]["metrics"]["accuracy"] == pytest.approx(1 / 3)
    assert out["baselines"]["logistic_regression"]["metrics"]["n"] == 3
