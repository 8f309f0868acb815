"""reports.py, plots.py and baselines.py: evaluation reports, pictures and baselines."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_rnn.evaluation.baselines import bag_of_words
from sentiment_rnn.data.teacher import fit_logistic_regression
from sentiment_rnn.cli.commands import main
from sentiment_rnn.evaluation.plots import plot_learning_curves

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


def test_learning_curves_from_a_history_mark_the_best_epoch(tmp_path):
    history = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 0.5 / e, "val_loss": 1.2 / e,
                "val_accuracy": 0.9 - 0.5 / e, "seconds": 1.0} for e in range(1, 5)]
    path = plot_learning_curves(history, tmp_path / "curves.png", best_epoch=3)
    assert path == tmp_path / "curves.png"
    assert_png(path, 360, 900)
    plain = plot_learning_curves(history, tmp_path / "plain.png")
    assert plain.read_bytes() != path.read_bytes()  # the best-epoch line is drawn
    assert plot_learning_curves([], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "plain.png"]  # no temp


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
    assert_png(folder / "calibration.png", 540, 500)
    assert saved["calibration"]["measure"] == ("expected calibration error of P(positive) over "
                                               "10 equal-width bins")


def test_report_on_a_file_with_one_class_writes_null_auc(trained_run, tmp_path):
    path = tmp_path / "pos.jsonl"
    path.write_text('{"label": "pos", "text": "great fun"}\n'
                    '{"label": "pos", "text": "boring awful"}\n')
    result = invoke("evaluate", "--model", trained_run, "--data", path, "--report", tmp_path / "r",
                    "--json")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert saved["auc"] is None and json.loads(result.stdout)["auc"] is None
    assert saved["confusion_matrix"] == [[0, 0], [1, 1]]
    assert saved["by_length"] == [{"tokens": "1-25", "reviews": 2, "accuracy": 0.5}]
    assert saved["data"] == f"Data: {path} (JSONL, 2 labelled texts)"
    assert_png(tmp_path / "r" / "roc_curve.png", 400, 500)


# --- baselines --------------------------------------------------------------------------------

def test_bag_of_words_counts_each_word_once_and_skips_padding():
    m = bag_of_words(np.array([[0, 0, 5, 3, 5], [0, 0, 0, 0, 0], [2, 2, 2, 4, 1]]), 6)
    assert m.toarray().tolist() == [[0, 0, 0, 1, 0, 1], [0] * 6, [0, 1, 1, 0, 1, 0]]


def test_the_regularisation_is_chosen_on_validation_only():
    """The training rows are the same each time; only the validation labels change, and the
    choice follows them: labels that agree with training want the confident fit (C 100),
    opposite labels the most regularised one (C 0.01). Chosen on the training rows, both
    would be the same."""
    x = bag_of_words(np.array([[2, 4], [3, 4], [2, 5], [3, 5], [2, 3]] * 4), 6)
    y = np.array([1, 0, 1, 0, 1] * 4)  # word 2 positive, word 3 negative
    x_val = bag_of_words(np.array([[2, 4], [3, 5]]), 6)
    grid = (0.01, 100.0)
    agree, c_agree = fit_logistic_regression(x, y, x_val, np.array([1, 0]), grid)
    oppose, c_oppose = fit_logistic_regression(x, y, x_val, np.array([0, 1]), grid)
    assert (c_agree, c_oppose) == (100.0, 0.01)
    assert (agree.C, oppose.C) == (100.0, 0.01)  # the fit returned is the chosen one
    assert agree.n_iter_[0] < agree.max_iter  # converged


def test_evaluate_baselines_on_the_imdb_split(trained_run, tiny_data_dir):
    result = invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                    "--baselines")
    assert result.exit_code == 0, result.output
    table = result.output.split("baselines on the same data (trained on the run's training "
                                "part)\n")[1].splitlines()
    assert [row.split("  ")[0] for row in table] == [
        "model", "RNN (this model)", "majority class (positive)",
        "bag of words, same 26 words + logistic regression (C 1000)",
        "TF-IDF, all words and pairs + logistic regression (C 1000)",
        "NB-weighted TF-IDF (the default teacher) + logistic regression (C 1000)"]
    assert table[2].split()[-4:] == ["0.5000", "0.6667", "0.5000", "0.6931"]
    out = json.loads(invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                            "--baselines", "--json").output)
    majority, lr = out["baselines"]["majority_class"], out["baselines"]["logistic_regression"]
    assert (majority["class"], majority["train_positive_share"]) == ("positive", 0.5)
    assert majority["metrics"]["confusion_matrix"] == [[0, 10], [0, 10]]
    assert (lr["train_reviews"], lr["chosen_on_validation_reviews"]) == (48, 12)
    assert lr["metrics"]["accuracy"] == 1.0  # the tiny corpus is separable word by word
    tfidf = out["baselines"]["tfidf_logistic_regression"]
    assert (tfidf["ngram_range"], tfidf["min_df"], tfidf["c"]) == ([1, 2], 2, 1000.0)
    assert tfidf["metrics"]["accuracy"] == 1.0
    assert out["baselines"]["nb_tfidf_logistic_regression"]["metrics"]["accuracy"] == 1.0


def test_evaluate_baselines_on_a_file(trained_run, tiny_data_dir, tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("1\tgreat fun\n0\tboring awful\n0\tthe worst\n")
    out = json.loads(invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir,
                            "--data", path, "--baselines", "--json").output)
    assert out["baselines"]["majority_class"]["metrics"]["accuracy"] == pytest.approx(1 / 3)
    assert out["baselines"]["logistic_regression"]["metrics"]["n"] == 3
