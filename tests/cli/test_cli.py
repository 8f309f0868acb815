"""The command line, driven with CliRunner on the tiny dataset the tests write."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_TRAIN_ARGS
from sentiment_rnn.data import imdb as data
from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.prediction.predictor import Predictor


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty folder, so models/ and data/ are the test's own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    return tmp_path


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_help_lists_commands_and_every_option_has_help_and_a_default():
    import click

    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("train", "evaluate", "predict"):
        assert command in result.output
    assert "[default: label-aware]" in invoke("train", "--help").output
    for name, command in main.commands.items():
        for option in command.params:
            if not isinstance(option, click.Option) or option.name == "help":
                continue
            assert option.help, f"{name} --{option.name} has no help text"
            shows_default = option.show_default or "[default:" in option.help
            assert shows_default or option.is_flag, f"{name} --{option.name} hides its default"


def test_train_leaves_a_complete_run_folder(trained_run):
    names = sorted(p.name for p in trained_run.iterdir())
    assert names == [".lock", "checkpoint-008.keras", "config.json", "history.json",
                     "learning_curves.png", "logs", "metadata.tsv", "model.keras", "state.json",
                     "training_log.csv", "vectors.tsv", "vocab.txt", "weights.npz"]
    meta = json.loads((trained_run / "config.json").read_text())
    config = TrainConfig.from_dict(meta["config"])
    assert (config.seed, config.max_len, config.units, config.embed_dim) == (7, 12, 6, 8)
    assert meta["vocab"]["size"] == config.vocab_size == 28  # the tiny corpus has 26 words
    assert set(meta["versions"]) == {"sentiment_rnn", "python", "tensorflow", "keras",
                                     "tensorflow_datasets", "numpy"}
    history = json.loads((trained_run / "history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(1, 9))
    assert set(history[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds",
                               "val_seconds"}
    assert (trained_run.parent / "latest").resolve() == trained_run.resolve()


def test_train_prints_summary_progress_and_where_it_saved(tiny_data_dir, in_tmp):
    result = invoke("train", *TINY_TRAIN_ARGS, "--epochs", "2", "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    run_dir = os.readlink(in_tmp / "models" / "latest")
    assert f"Run folder: models/{run_dir}" in result.output
    assert "Training on 48 reviews, validating on 12 (last 20% of the train split)" in result.output
    assert "Total params: 321" in result.output
    assert "Epoch 2/2" in result.output
    assert f"Saved to models/{run_dir}" in result.output
    assert f"Learning curves: models/{run_dir}/learning_curves.png" in result.output


def test_same_seed_gives_the_same_weights(tiny_data_dir, trained_run, in_tmp):
    result = invoke("train", *TINY_TRAIN_ARGS, "--run-dir", "again", "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    with np.load(trained_run / "weights.npz") as a, np.load(in_tmp / "again" / "weights.npz") as b:
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])


def test_train_refuses_a_folder_that_already_holds_a_run(trained_run, tiny_data_dir, in_tmp):
    before = {p.name: p.stat().st_mtime_ns for p in trained_run.iterdir()}
    result = invoke("train", *TINY_TRAIN_ARGS, "--run-dir", trained_run, "--data-dir", tiny_data_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trained_run}: exists and is not an empty folder; choose "
                             f"another --run-dir, or continue it with --resume {trained_run}\n")
    assert {p.name: p.stat().st_mtime_ns for p in trained_run.iterdir()} == before


def test_evaluate_json_has_every_metric(trained_run, tiny_data_dir):
    result = invoke("evaluate", "--model", trained_run, "--data-dir", tiny_data_dir, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert set(metrics) == {"accuracy", "loss", "precision", "recall", "f1", "auc",
                            "confusion_matrix", "n", "unknown_texts"}
    assert metrics["unknown_texts"] == 0
    assert metrics["n"] == 20
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    assert tn + fp + fn + tp == 20
    assert metrics["accuracy"] == (tn + tp) / 20


def test_evaluate_table_uses_models_latest(trained_run, tiny_data_dir, monkeypatch):
    monkeypatch.chdir(trained_run.parents[1])  # the folder holding models/latest
    result = invoke("evaluate", "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Model: models/tiny"  # relative, as models/latest points
    assert lines[3] == "reviews        20"


def test_predict_prints_label_probability_and_first_words(trained_run):
    texts = ["A wonderful, superb film and a great story that I loved from start to end, really",
             "boring, awful, the worst"]
    probs = Predictor(trained_run).predict(texts)
    labels = ["positive" if p >= 0.5 else "negative" for p in probs]
    result = invoke("predict", "--model", trained_run, *texts)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{labels[0]:<8}  {probs[0]:.4f}  A wonderful, superb film and a great story that "
        f"I loved...\n"
        f"{labels[1]:<8}  {probs[1]:.4f}  boring, awful, the worst\n")
    assert labels[1] == "negative"


def test_predict_json_and_stdin(trained_run):
    result = invoke("predict", "--model", trained_run, "--json", "-",
                    input="great fun\n\n  \nboring, awful\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]  # one per input line
    assert [r["text"] for r in rows] == ["great fun", "", "  ", "boring, awful"]
    assert [r["label"] for r in rows] == ["positive", "unknown", "unknown", "negative"]
    probs = Predictor(trained_run).predict(["great fun", "boring, awful"])
    assert [rows[0]["probability"], rows[3]["probability"]] == probs.tolist()
    assert rows[1]["probability"] is None


def test_predict_backends_print_the_same_label(trained_run):
    texts = "superb\nawful boring\nthe movie was fun but dull\nzzz\n"
    out = {}
    for backend in ("numpy", "keras"):
        result = invoke("predict", "--model", trained_run, "--backend", backend, "--json", "-",
                        input=texts)
        assert (result.exit_code, result.exception) == (0, None), result.output
        out[backend] = [json.loads(line) for line in result.stdout.splitlines()]
    numpy_rows, keras_rows = out["numpy"], out["keras"]
    assert [r["label"] for r in numpy_rows] == [r["label"] for r in keras_rows]
    assert [r["label"] for r in numpy_rows][:2] == ["positive", "negative"]
    assert numpy_rows[3]["label"] == "unknown" and keras_rows[3]["probability"] is None
    for a, b in zip(numpy_rows[:3], keras_rows[:3]):
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


def test_predict_without_a_trained_model_says_what_to_do(in_tmp):
    result = invoke("predict", "hello")
    assert result.exit_code == 1
    assert result.output == ("Error: no trained model found (models/latest does not exist): "
                             "run `sentiment-rnn train` first, or pass --model RUN_DIR\n")


def test_missing_dataset_offline_gives_one_clear_paragraph(in_tmp, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda *a, **k: False)
    result = invoke("train", "--limit", "10", "--data-dir", in_tmp / "nothing")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.output
    assert message.startswith("Error: The IMDB dataset (imdb_reviews) is not prepared in ")
    assert "--data-dir" in message and "TFDS_DATA_DIR" in message
    assert message.count("\n") == 1
    assert not (in_tmp / "models").exists()


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "sentiment_rnn", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout == "sentiment-rnn, version 0.4.0\n"
