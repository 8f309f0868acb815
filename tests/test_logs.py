"""logs.py: the CSV log, TensorBoard events and the Embedding Projector files of a run."""

import csv
import json

import numpy as np
import pytest


def test_the_csv_log_is_history_json_in_csvloggers_columns(trained_run):
    history = json.loads((trained_run / "history.json").read_text())
    with open(trained_run / "training_log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [h["epoch"] - 1 for h in history]  # 0-based
    for row, h in zip(rows, history):
        assert {k: float(v) for k, v in row.items() if k != "epoch"} == \
            {k: h[k] for k in ("accuracy", "loss", "val_accuracy", "val_loss")}


def test_tensorboard_reads_one_summary_per_epoch(trained_run):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    history = json.loads((trained_run / "history.json").read_text())
    for folder, key in (("train", "accuracy"), ("validation", "val_accuracy")):
        events = EventAccumulator(str(trained_run / "logs" / folder),
                                  size_guidance={"tensors": 0})  # keep every point
        events.Reload()
        points = sorted(events.Tensors("epoch_accuracy"), key=lambda p: p.step)  # one file a fit
        assert [p.step for p in points] == list(range(len(history)))
        values = [float(make_ndarray(p.tensor_proto)) for p in points]
        assert values == pytest.approx([h[key] for h in history], abs=1e-6)


def test_projector_files_are_the_best_embedding_and_its_words(trained_run):
    words = (trained_run / "metadata.tsv").read_text().splitlines()
    assert words == (trained_run / "vocab.txt").read_text().splitlines()
    vectors = np.loadtxt(trained_run / "vectors.tsv", delimiter="\t")
    with np.load(trained_run / "weights.npz", allow_pickle=False) as npz:
        np.testing.assert_allclose(vectors, npz["embedding"], rtol=1e-5, atol=1e-7)
    assert vectors.shape == (len(words), 8)
