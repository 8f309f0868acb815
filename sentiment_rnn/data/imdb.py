"""The start of the flow: IMDB reviews (or another tfds dataset) as (texts, labels), streamed.

The only module that imports tensorflow_datasets.

The dataset folder is `--data-dir`, else `$TFDS_DATA_DIR`, else `data/`. With internet, the first
run downloads and prepares `imdb_reviews` there with tfds' own progress bars; without it, a
`DataNotFoundError` says how to point the tool at a prepared copy.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from sentiment_rnn import _tf
from sentiment_rnn.errors import DataNotFoundError

DATASET = "imdb_reviews"
DEFAULT_DATA_DIR = Path("data")
_IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    if data_dir:
        return Path(data_dir)
    env = os.environ.get("TFDS_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


def _not_found(data_dir: Path, why: str, dataset: str = DATASET) -> DataNotFoundError:
    name = f"The IMDB dataset ({DATASET})" if dataset == DATASET else f"The dataset {dataset}"
    return DataNotFoundError(
        f"{name} is not prepared in {data_dir} and {why}. "
        f"Point the tool at a folder that holds a prepared copy with --data-dir DIR or the "
        f"TFDS_DATA_DIR environment variable (the folder that contains {dataset}/), or run once "
        f"with internet access to download it into {data_dir}."
    )


def _online(url: str = _IMDB_URL, timeout: float = 5.0) -> bool:
    """One quick connection try, so an offline machine gets an answer in seconds, not after
    tfds' minutes of download retries."""
    host = urlparse(url).hostname or ""
    try:
        with socket.create_connection((host, 80), timeout=timeout):
            return True
    except OSError:
        return False


def _builder(data_dir: Path, dataset: str = DATASET):
    """The tfds builder of `dataset` in data_dir: a catalog dataset (downloaded if needed and
    possible), or one prepared there in tfds' format under any name."""
    tfds = _tf.tensorflow_datasets()
    try:
        builder = tfds.builder(dataset, data_dir=str(data_dir))
    except Exception as exc:  # not in the catalog: perhaps prepared in the folder
        builder = _prepared_builder(data_dir, dataset)
        if builder is None:
            raise DataNotFoundError(f"{dataset}: no such dataset in the tensorflow-datasets "
                                    f"catalog nor prepared in {data_dir} "
                                    f"({type(exc).__name__})") from None
        return builder
    if not builder.is_prepared():
        if not _online():
            raise _not_found(data_dir, "this machine cannot reach the download server", dataset)
        try:
            builder.download_and_prepare()
        except Exception as exc:  # network and disk errors of every kind: one clear message
            raise _not_found(data_dir, f"downloading it failed ({type(exc).__name__})",
                             dataset) from None
    return builder


def _prepared_builder(data_dir: Path, dataset: str):
    """A builder read from data_dir/<dataset>/[<config>/]<version>/dataset_info.json."""
    tfds = _tf.tensorflow_datasets()
    infos = sorted((data_dir / dataset).glob("**/dataset_info.json"))
    if not infos:
        return None
    try:
        return tfds.builder_from_directory(str(infos[-1].parent))
    except Exception:
        return None


def _text_and_label(builder, dataset: str) -> tuple[str, str]:
    """The names of the dataset's text feature and its two-class label."""
    tfds = _tf.tensorflow_datasets()
    features = builder.info.features
    keys = builder.info.supervised_keys
    if keys and len(keys) == 2 and all(isinstance(k, str) for k in keys):
        text, label = keys
    else:
        texts = [k for k, f in features.items() if isinstance(f, tfds.features.Text)]
        labels = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
        if len(texts) != 1 or len(labels) != 1:
            raise DataNotFoundError(f"{dataset}: not a text classification dataset (it needs "
                                    f"one text feature and one class label)")
        text, label = texts[0], labels[0]
    kind = features[label]
    if not (isinstance(features[text], tfds.features.Text)
            and isinstance(kind, tfds.features.ClassLabel) and kind.num_classes == 2):
        raise DataNotFoundError(f"{dataset}: not a binary text classification dataset "
                                f"({text!r} must be text and {label!r} a label with 2 classes)")
    return text, label


def split_names(data_dir: str | os.PathLike | None = None, dataset: str = DATASET) -> list[str]:
    """The names of the dataset's splits (IMDB: train, test, unsupervised)."""
    return sorted(_builder(resolve_data_dir(data_dir), dataset).info.splits)


def iter_split(split: str, data_dir: str | os.PathLike | None = None,
               limit: int | None = None, dataset: str = DATASET,
               batch: int = 4096) -> tuple[int, Iterator[tuple[list[str], np.ndarray]]]:
    """(number of examples, batches of (texts, labels)) of one split, in the dataset's order,
    streamed: a split of any size is never held in memory whole."""
    folder = resolve_data_dir(data_dir)
    builder = _builder(folder, dataset)
    text_key, label_key = _text_and_label(builder, dataset)
    if split not in builder.info.splits:
        raise DataNotFoundError(f"{dataset} has no {split!r} split (it has "
                                f"{', '.join(sorted(builder.info.splits))})")
    n = builder.info.splits[split].num_examples
    if limit is not None and int(limit) < n:
        split, n = f"{split}[:{int(limit)}]", int(limit)

    def batches():
        try:
            ds = builder.as_dataset(split=split, shuffle_files=False)
            for row in ds.batch(batch).as_numpy_iterator():
                yield ([t.decode("utf-8") for t in row[text_key]],
                       np.asarray(row[label_key], dtype=np.int32))
        except Exception as exc:  # a half-written or damaged tfrecord file
            raise DataNotFoundError(
                f"The dataset {dataset} in {folder} could not be read ({type(exc).__name__}); "
                f"it may be incomplete. Delete {folder / dataset} to prepare it again, or point "
                f"--data-dir or TFDS_DATA_DIR at a complete copy.") from None

    return n, batches()


def load_split(split: str, data_dir: str | os.PathLike | None = None,
               limit: int | None = None, dataset: str = DATASET) -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 = positive) of one split, in the dataset's order, in memory.

    `split` is a tfds split name such as "train" or "test"; `limit` keeps the first N reviews
    (all of them when the split has fewer).
    """
    _, batches = iter_split(split, data_dir, limit, dataset)
    texts: list[str] = []
    labels: list[np.ndarray] = [np.empty(0, np.int32)]
    for text_batch, label_batch in batches:
        texts.extend(text_batch)
        labels.append(label_batch)
    return texts, np.concatenate(labels)
