"""config.py: the settings dataclass, saved with each run and rebuilt from it."""

import json

import pytest

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import ConfigError


def test_round_trip_through_json():
    config = TrainConfig(vocab_size=500, max_len=50, seed=3, limit=100)
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


@pytest.mark.parametrize("changes, message", [
    ({"max_len": 0}, "max_len must be a whole number >= 1"),
    ({"epochs": -1}, "epochs must be a whole number >= 1"),
    ({"vocab_size": 1}, "vocab_size must be a whole number >= 3, got 1"),
    ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
    ({"learning_rate": 0}, "learning_rate must be a number > 0"),
    ({"units": 2.5}, "units must be a whole number"),
    ({"drop_oov": "yes"}, "drop_oov must be true or false"),
    ({"vocab_method": "random"}, "vocab_method must be one of"),
    ({"validation_fraction": 1.0}, "validation_fraction must be a number between 0 and 1"),
    ({"dropout": 1.0}, "dropout must be a number from 0 to below 1"),
    ({"recurrent_dropout": -0.1}, "recurrent_dropout must be a number from 0 to below 1"),
    ({"cell": "rnn"}, "cell must be one of simple, gru, lstm, got 'rnn'"),
    ({"cell": None}, "cell must be one of simple, gru, lstm, got None"),
    ({"teacher_sentences": -1}, "teacher_sentences must be a whole number >= 0"),
    ({"vocab_keep": "good"}, "vocab_keep must be a list of words, got 'good'"),
    ({"vocab_keep": ("good", 3)}, "vocab_keep must be a list of words"),
    ({"vocab_keep": ("Good",)}, "vocab_keep: 'Good' is not one word as the tokenizer reads"),
    ({"vocab_keep": ("don't",)}, "vocab_keep: \"don't\" is not one word"),
    ({"vocab_keep": ("not good",)}, "vocab_keep: 'not good' is not one word"),
    ({"vocab_keep": ("a_b",)}, "vocab_keep: 'a_b' is not one word"),
    ({"vocab_keep": ("\ufb01ne",)}, "is not one word"),  # the ligature: NFKC makes it "fine"
    ({"vocab_keep": ("good", "good")}, "vocab_keep names a word twice"),
])
def test_out_of_range_values_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_every_kept_word_is_one_token_of_the_tokenizer():
    from sentiment_rnn.text.tokenizer import tokenize

    words = TrainConfig().vocab_keep
    assert {"good", "bad", "great", "not", "never", "nothing", "no", "but", "worst", "best",
            "better", "boring", "love"} <= set(words)
    assert all(tokenize(w) == [w] for w in words)
    assert TrainConfig(vocab_keep=("café", "2001")).vocab_keep == ("café", "2001")


def test_a_run_saved_before_0_5_kept_no_words_and_read_whole_texts():
    old = {k: v for k, v in TrainConfig().to_dict().items()
           if k not in ("vocab_keep", "teacher_sentences")}
    config = TrainConfig.from_dict(json.loads(json.dumps(old)))
    assert (config.vocab_keep, config.teacher_sentences) == ((), 0)
    new = TrainConfig.from_dict(json.loads(json.dumps(TrainConfig().to_dict())))
    assert new == TrainConfig() and new.teacher_sentences == 2


def test_unknown_keys_are_refused():
    data = TrainConfig().to_dict() | {"momentum": 0.5}
    with pytest.raises(ConfigError, match="unknown configuration keys: momentum"):
        TrainConfig.from_dict(data)


def test_a_run_saved_before_cells_existed_is_a_simplernn():
    data = TrainConfig().to_dict()
    del data["cell"]
    assert TrainConfig.from_dict(data).cell == "simple"


@pytest.mark.parametrize("cell, recurrent", [
    ("simple", 32 * 32 + 32 * 32 + 32),  # W_xh, W_hh, b_h
    ("gru", 3 * (32 * 32 + 32 * 32 + 2 * 32)),  # per gate: W_x, W_h, two biases
    ("lstm", 4 * (32 * 32 + 32 * 32 + 32)),  # per gate: W_x, W_h, a bias
])
def test_the_parameter_count_follows_the_cell(cell, recurrent):
    assert TrainConfig(cell=cell).parameters == 1000 * 32 + recurrent + 32 + 1
