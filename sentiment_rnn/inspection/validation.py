"""A run's own validation reviews, read again: the texts the inspections measure the model on.

    config.json's data -> prepare.labelled_texts (the split training made) -> checked -> texts

`inspect --check`, `inspect --memory`, `Model.memory` and the page's Memory panel read the
validation part of the run's training data, never the test split: for a tfds run the last
`validation_fraction` of the train split, for a `--data` run the validation part of the user's
file (or `--validation-data`), split exactly as `prepare` split it for training, validation texts
that repeat a training text dropped. The split is checked against what training recorded in
config.json: the number of validation reviews, and the sha256 of their labels and ids (the
bytes of labels-validation.npy and ids-validation.npy), so data changed since training is an
error, not a silent other set. Reading a tfds dataset imports TensorFlow (through
tensorflow-datasets); a user's file does not. Nothing is cached on disk.
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import NamedTuple

import numpy as np

from sentiment_rnn.data.id_store import IDS_FILES, LABEL_FILES, ids_dtype
from sentiment_rnn.errors import DataFileError
from sentiment_rnn.files.atomic import read_json
from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.text.vocabulary import encode


class RunParts(NamedTuple):
    """The training and validation parts of a run's data, as training split them."""

    train: tuple[list[str], np.ndarray]
    validation: tuple[list[str], np.ndarray]
    source: str  # what the validation texts are, e.g. "IMDB validation reviews"
    checked: str  # what they were checked against


def validation_source(run: Run) -> str:
    """The words for a run's validation texts: "IMDB validation reviews", or "validation texts
    of reviews.csv"."""
    cfg = run.config
    if cfg.data is None:
        from sentiment_rnn.data.imdb import DATASET  # a constant: tfds is not imported

        return f"{'IMDB' if cfg.dataset == DATASET else cfg.dataset} validation reviews"
    return f"validation texts of {os.path.basename(cfg.validation_data or cfg.data)}"


def _npy_sha256(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array)  # the same header open_memmap and np.save wrote in training
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def check_split(run: Run, texts: list[str], labels: np.ndarray) -> str:
    """Check the validation part read now against config.json's record of training's; return
    what it was checked against. Raises DataFileError when they differ."""
    data = read_json(run.config_file).get("data")  # the run loaded: config.json is an object
    data = data if isinstance(data, dict) else {}
    cfg, checked = run.config, []
    recorded = data.get("validation_reviews")
    if isinstance(recorded, int):
        if recorded != len(texts):
            raise DataFileError(f"{run.path}: its data now gives {len(texts):,} validation "
                                f"texts, training had {recorded:,}: the data has changed since "
                                f"the run was trained")
        checked.append("count")
    digests = data.get("prepared_sha256")
    digests = digests if isinstance(digests, dict) else {}
    if LABEL_FILES["validation"] in digests:
        if _npy_sha256(labels.astype(np.int32)) != digests[LABEL_FILES["validation"]]:
            raise DataFileError(f"{run.path}: the validation labels read now differ from "
                                f"training's: the data has changed since the run was trained")
        checked.append("labels sha256")
    if IDS_FILES["validation"] in digests:
        ids = encode(texts, run.vocab, cfg.max_len, cfg.drop_oov, length=cfg.max_len)
        if _npy_sha256(ids.astype(ids_dtype(len(run.vocab)))) != digests[IDS_FILES["validation"]]:
            raise DataFileError(f"{run.path}: the validation texts read now differ from "
                                f"training's: the data has changed since the run was trained")
        checked.append("ids sha256")
    return ", ".join(checked) if checked else "nothing recorded by training"


def run_parts(run: Run, data_dir=None) -> RunParts:
    """The run's training and validation parts, read again and split as training split them
    (prepare.labelled_texts), the validation part checked (`check_split`). Reads the whole
    training data: the 25,000 IMDB train reviews take about 20 s."""
    from sentiment_rnn.data.prepare import labelled_texts

    train, (texts, labels) = labelled_texts(run.config, data_dir)
    checked = check_split(run, texts, labels)
    return RunParts(train, (texts, labels), validation_source(run), checked)


def validation_reviews(run: Run, n: int | None = None, data_dir=None
                       ) -> tuple[list[str], np.ndarray, str]:
    """The first n validation texts of the run (all with n None), their labels, and what they
    are ("IMDB validation reviews")."""
    parts = run_parts(run, data_dir)
    texts, labels = parts.validation
    return texts[:n], labels[:n], parts.source
