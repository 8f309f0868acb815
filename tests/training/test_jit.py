"""XLA (`--jit`, the default) and TensorFlow's graph (`--no-jit`): each gives the same run for
the same seed, they differ from each other, and a run saved before the setting existed keeps
the graph."""

import json

import numpy as np
import pytest

from conftest import TINY_TRAIN_ARGS, train_through_the_cli
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.nn.batching import JIT_WIDTHS, trim


def _weights(run_dir):
    with np.load(run_dir / "weights.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def test_a_batch_is_padded_to_the_next_width_or_trimmed_without_widths():
    ids = np.zeros((3, 40), dtype=np.int32)
    ids[0, -13:] = 5  # the longest row: 13 ids
    ids[1, -2:] = 7
    assert trim(ids).shape == (3, 13)
    assert trim(ids, JIT_WIDTHS).shape == (3, 16)
    np.testing.assert_array_equal(trim(ids, JIT_WIDTHS), ids[:, -16:])
    assert trim(ids, (8, 12)).shape == (3, 40)  # no width holds 13: every column
    assert trim(np.zeros((2, 40), dtype=np.int32), JIT_WIDTHS).shape == (2, 8)


def test_a_run_saved_before_the_setting_keeps_the_graph():
    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "jit_compile"}
    assert TrainConfig.from_dict(old).jit_compile is False
    assert TrainConfig().jit_compile is True


@pytest.fixture(scope="module")
def runs(tiny_data_dir, tmp_path_factory):
    """Two XLA runs and one graph run of the same seed, each in a fresh folder (the last
    --jit or --no-jit given wins over TINY_TRAIN_ARGS' --no-jit)."""
    work = tmp_path_factory.mktemp("jit")
    return {name: train_through_the_cli(work, name, [*TINY_TRAIN_ARGS, *flag],
                                        tiny_data_dir).run_dir
            for name, flag in (("xla-1", ["--jit"]), ("xla-2", ["--jit"]),
                               ("graph", ["--no-jit"]))}


def test_the_same_seed_gives_bit_equal_weights_with_xla(runs):
    first, second = _weights(runs["xla-1"]), _weights(runs["xla-2"])
    assert sorted(first) == sorted(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    config = json.loads((runs["xla-1"] / "config.json").read_text())["config"]
    assert config["jit_compile"] is True


def test_no_jit_is_another_computation_of_the_same_model(runs):
    """--no-jit really turns the compiler off: its weights are not bit-equal to XLA's, yet the
    two computations agree closely (the same model, the same batches)."""
    xla, graph = _weights(runs["xla-1"]), _weights(runs["graph"])
    assert json.loads((runs["graph"] / "config.json").read_text())["config"]["jit_compile"] \
        is False
    assert any(not np.array_equal(xla[name], graph[name]) for name in xla)
    for name in xla:
        np.testing.assert_allclose(xla[name], graph[name], atol=2e-3)


def test_a_run_records_its_validation_seconds_and_the_real_ids_it_read(runs, tiny_data_dir):
    from sentiment_rnn.data.prepare import prepare
    from sentiment_rnn.nn.batching import lengths

    saved = json.loads((runs["xla-1"] / "config.json").read_text())
    history = json.loads((runs["xla-1"] / "history.json").read_text())
    assert all(0 < row["val_seconds"] <= row["seconds"] for row in history)
    config = TrainConfig.from_dict(saved["config"])
    _, (x, _), (xv, _) = prepare(config, tiny_data_dir)
    assert saved["data"]["ids"] == {"train": int(lengths(x).sum()),
                                    "validation": int(lengths(xv).sum())}
    assert 0 < saved["data"]["ids"]["train"] < x.size  # real ids, not the padded array
    assert saved["data"]["prepare_seconds"] > 0
