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
    import sentiment_rnn as sr

    words = (trained_run / "metadata.tsv").read_text().splitlines()
    vectors = np.loadtxt(trained_run / "vectors.tsv", delimiter="\t")
    # line i of metadata.tsv is the word the model reads as id i, and row i of vectors.tsv its
    # embedding: checked through the tokenizer's lookup, not through the file it was written from
    model = sr.load(trained_run)
    assert words[:2] == ["<pad>", "<oov>"] and len(set(words)) == len(words)
    assert [model.ids(w) for w in words[2:]] == [[i] for i in range(2, len(words))]
    with np.load(trained_run / "weights.npz", allow_pickle=False) as npz:
        np.testing.assert_allclose(vectors, npz["embedding"], rtol=1e-5, atol=1e-7)
    assert vectors.shape == (len(words), 8)


def test_a_taught_run_names_the_teachers_agreement_apart_from_the_accuracy(taught_run):
    history = json.loads((taught_run / "history.json").read_text())
    keys = ["accuracy", "epoch", "loss", "seconds", "teacher_agreement", "val_accuracy",
            "val_loss", "val_seconds"]
    assert [sorted(row) for row in history] == [keys] * len(history)
    with open(taught_run / "training_log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "teacher_agreement", "val_accuracy",
                             "val_loss"]
    assert [float(r["teacher_agreement"]) for r in rows] == \
        [h["teacher_agreement"] for h in history]


def test_tensorboard_names_the_teachers_agreement_in_training_only(taught_run):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = {}
    for folder in ("train", "validation"):
        events = EventAccumulator(str(taught_run / "logs" / folder))
        events.Reload()
        tags[folder] = {t for t in events.Tags()["tensors"] if t.startswith("epoch_")}
    assert tags["train"] >= {"epoch_accuracy", "epoch_loss", "epoch_teacher_agreement"}
    assert "epoch_teacher_agreement" not in tags["validation"]
    assert tags["validation"] >= {"epoch_accuracy", "epoch_loss"}
