"""End to end on the real IMDB data from TFDS_DATA_DIR: train briefly, evaluate, predict."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import REAL_DATA, REQUIRE_DATA
from sentiment_rnn.cli.commands import main

pytestmark = pytest.mark.integration

HAVE_IMDB = (REAL_DATA / "imdb_reviews" / "plain_text" / "1.0.0" / "dataset_info.json").exists()


def test_train_evaluate_predict_on_real_imdb(tmp_path, monkeypatch):
    if not HAVE_IMDB:
        message = f"IMDB not prepared in {REAL_DATA}; set TFDS_DATA_DIR"
        if REQUIRE_DATA:
            pytest.fail(message + " (SENTIMENT_RNN_REQUIRE_DATA is set)")
        pytest.skip(message)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["train", "--limit", "5000", "--epochs", "2",
                                  "--data-dir", str(REAL_DATA)])
    assert result.exit_code == 0, result.output
    saved = json.loads(next(tmp_path.glob("models/2*/config.json")).read_text())
    sentences = saved["data"]["teacher"]["unlabelled_sentences"]
    mine = saved["data"]["teacher"]["labelled_sentences"]
    assert 9_000 < sentences <= 10_000  # two of each review of two sentences or more
    assert 7_200 < mine <= 8_000  # and two of each training review's
    # the teacher of sentences learns them all; the RNN those with a word in the vocabulary
    assert 4_000 + mine <= saved["data"]["teacher"]["sentence_teacher"]["train_texts"] <= 12_000
    assert (f"Training on 4,000 reviews and 5,000 texts the teacher labelled (and "
            f"{sentences:,} of their sentences), and {mine:,} sentences of the training "
            f"reviews, validating on 1,000" in result.output)
    assert saved["data"]["teacher"]["source"] == \
        "tensorflow-datasets imdb_reviews, unsupervised split"
    assert saved["data"]["teacher"]["validation_accuracy"] >= 0.80
    _backward_pass_matches_gradient_tape_on_the_validation_part(tmp_path)

    result = runner.invoke(main, ["evaluate", "--json", "--data-dir", str(REAL_DATA)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 25000
    assert metrics["accuracy"] >= 0.70, metrics

    reviews = ["One of the best films I have ever seen. A brilliant, moving story with "
               "wonderful acting, and I loved every minute of it.",
               "A terrible, boring waste of time. The acting was awful, the plot made no "
               "sense, and it is the worst movie I have seen this year."]
    for backend in ("numpy", "keras"):
        result = runner.invoke(main, ["predict", "--json", "--backend", backend, *reviews])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["label"] for r in rows] == ["positive", "negative"]
        if backend == "numpy":
            numpy_probs = np.array([r["probability"] for r in rows])
        else:
            keras_probs = np.array([r["probability"] for r in rows])
    assert np.max(np.abs(numpy_probs - keras_probs)) < 1e-5


def _backward_pass_matches_gradient_tape_on_the_validation_part(tmp_path):
    """The NumPy backward pass against GradientTape on the run's own Keras layers (float64) over
    its validation part: 1,000 real reviews of up to 200 words."""
    from sentiment_rnn.data.prepare import labelled_texts
    from sentiment_rnn.files.run_folder import load_run
    from sentiment_rnn.inspection.parity import gradient_difference
    from sentiment_rnn.prediction.keras_backend import load_keras_model
    from sentiment_rnn.prediction.predictor import load_numpy_model
    from sentiment_rnn.text.vocabulary import encode

    run = load_run(next(tmp_path.glob("models/2*")))
    _, (texts, _) = labelled_texts(run.config, REAL_DATA)
    assert len(texts) == 1000
    ids = encode(texts, run.vocab, run.config.max_len, run.config.drop_oov)
    assert ids.shape[1] == 200  # the reviews run the whole 200 steps back
    worst = gradient_difference(load_numpy_model(run), load_keras_model(run), ids)
    assert worst <= 1e-5
