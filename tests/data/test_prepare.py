"""prepare.py and training's ML invariants: what each part of the data may be used for."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_TRAIN_ARGS, tiny_corpus, write_tfds_imdb
from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import ConfigError
from sentiment_rnn.data.prepare import prepare, split_train_validation


def test_the_validation_part_is_the_last_fraction_and_each_part_is_non_empty():
    assert split_train_validation(60, 0.2) == 48
    assert split_train_validation(2, 0.5) == 1
    for n, fraction in ((2, 0.0001), (2, 0.9999), (1, 0.5)):
        with pytest.raises(ConfigError, match="cannot be split"):
            split_train_validation(n, fraction)


def test_the_validation_part_is_the_same_for_the_same_seed_and_across_seeds(tiny_data_dir):
    def validation(seed):
        _, _, (x_val, y_val) = prepare(TrainConfig(seed=seed, limit=60, vocab_size=30,
                                                   max_len=12), tiny_data_dir)
        return x_val, y_val

    (a, ya), (b, yb), (c, yc) = validation(7), validation(7), validation(8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(a, c)  # the split does not depend on the seed at all
    assert len(ya) == 12


def test_a_word_seen_only_in_validation_reviews_never_enters_the_vocabulary(tmp_path):
    rows = tiny_corpus(48)
    rows += [(f"zebra {text}", label) for text, label in tiny_corpus(12, offset=48)]
    data_dir = write_tfds_imdb(tmp_path / "tfds", {"train": rows, "test": tiny_corpus(4)})
    vocab, (x_train, _), (x_val, _) = prepare(TrainConfig(limit=60, vocab_size=100),
                                              data_dir)
    assert "zebra" not in vocab.words
    assert len(vocab) < 100  # room was left: zebra was not crowded out, it was never seen


def test_train_never_reads_the_test_split(tmp_path, monkeypatch):
    """The test split's file is garbage: training must not notice."""
    data_dir = write_tfds_imdb(tmp_path / "tfds", {"train": tiny_corpus(60),
                                                   "test": tiny_corpus(20, offset=60)})
    test_file = next((data_dir / "imdb_reviews" / "plain_text" / "1.0.0").glob("*test.tfrecord*"))
    test_file.write_bytes(b"not a tfrecord at all" * 100)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["train", *TINY_TRAIN_ARGS, "--epochs", "2", "--run-dir",
                                       str(tmp_path / "run"), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "state.json").read_text())["completed"]
    # and the same folder does fail where the test split is read: evaluate
    result = CliRunner().invoke(main, ["evaluate", "--model", str(tmp_path / "run"),
                                       "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert "could not be read" in result.output
