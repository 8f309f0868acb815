"""Training logs in the forms Keras users expect, beside the run's own history.json.

    training_log.csv  one row per finished epoch, the columns of Keras' CSVLogger: loss,
                      accuracy (training, labelled rows), teacher_agreement (training, the
                      teacher's rows, with a teacher only), val_loss, val_accuracy
    logs/             TensorBoard event files (`tensorboard --logdir models/`)
    vectors.tsv, metadata.tsv  the best model's word embedding and its words, for the
                      Embedding Projector (projector.tensorflow.org, "Load")

The CSV is written from the committed history at the end of each epoch, not by CSVLogger
itself: CSVLogger appends as an epoch ends, before the run folder commits it, so a run killed
in between and resumed would log that epoch twice. TensorBoard's events come from Keras' own
callback; an epoch redone after a kill is logged again at the same step.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from sentiment_rnn import _tf
from sentiment_rnn.files.atomic import write_text_atomic
from sentiment_rnn.files.run_folder import Run

CSV_LOG = "training_log.csv"
TENSORBOARD_DIR = "logs"
VECTORS, METADATA = "vectors.tsv", "metadata.tsv"


def write_csv_log(path: Path, history: list[dict]) -> None:
    """history.json's rows as CSVLogger writes them: epoch (0-based), then metrics by name."""
    out = io.StringIO()
    keys = sorted({k for row in history for k in row} - {"epoch", "seconds", "val_seconds"})
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row in history:
        writer.writerow([row["epoch"] - 1, *(row.get(k, "") for k in keys)])
    write_text_atomic(path, out.getvalue())


def tensorboard(run: Run):
    """Keras' TensorBoard callback, writing epoch summaries under the run's logs/ folder."""
    tf = _tf.tensorflow()
    return tf.keras.callbacks.TensorBoard(log_dir=str(run.path / TENSORBOARD_DIR),
                                          write_graph=False, update_freq="epoch")


def export_embedding(run: Run, embedding: np.ndarray) -> None:
    """vectors.tsv (one row of embed_dim numbers per id) and metadata.tsv (its word), the
    two files the Embedding Projector loads."""
    vectors = "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in embedding)
    write_text_atomic(run.path / VECTORS, vectors)
    write_text_atomic(run.path / METADATA, run.vocab.text())
