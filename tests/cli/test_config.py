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
])
def test_out_of_range_values_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


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
