"""The start of the flow: IMDB reviews as (texts, labels). The only module that imports tfds.

The dataset folder is `--data-dir`, else `$TFDS_DATA_DIR`, else `data/`. With internet, the first
run downloads and prepares `imdb_reviews` there with tfds' own progress bars; without it, a
`DataNotFoundError` says how to point the tool at a prepared copy.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from . import quiet
from .errors import DataNotFoundError

DATASET = "imdb_reviews"
DEFAULT_DATA_DIR = Path("data")
_IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    if data_dir:
        return Path(data_dir)
    env = os.environ.get("TFDS_DATA_DIR")
    return Path(env) if env else DEFAULT_DATA_DIR


def _not_found(data_dir: Path, why: str) -> DataNotFoundError:
    return DataNotFoundError(
        f"The IMDB dataset ({DATASET}) is not prepared in {data_dir} and {why}. "
        f"Point the tool at a folder that holds a prepared copy with --data-dir DIR or the "
        f"TFDS_DATA_DIR environment variable (the folder that contains {DATASET}/), or run once "
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


def _builder(data_dir: Path):
    tfds = quiet.tensorflow_datasets()
    builder = tfds.builder(DATASET, data_dir=str(data_dir))
    if not builder.is_prepared():
        if not _online():
            raise _not_found(data_dir, "this machine cannot reach the download server")
        try:
            builder.download_and_prepare()
        except Exception as exc:  # network and disk errors of every kind: one clear message
            raise _not_found(data_dir, f"downloading it failed ({type(exc).__name__})") from None
    return builder


def load_split(split: str, data_dir: str | os.PathLike | None = None,
               limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 = positive) of one split, in the dataset's order.

    `split` is a tfds split name such as "train" or "test"; `limit` keeps the first N reviews
    (all of them when the split has fewer).
    """
    folder = resolve_data_dir(data_dir)
    builder = _builder(folder)
    if limit is not None and int(limit) < builder.info.splits[split].num_examples:
        split = f"{split}[:{int(limit)}]"
    try:
        ds = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
        texts: list[str] = []
        labels: list[int] = []
        for text_batch, label_batch in ds.batch(4096).as_numpy_iterator():
            texts.extend(t.decode("utf-8") for t in text_batch)
            labels.extend(int(y) for y in label_batch)
    except Exception as exc:  # a half-written or damaged tfrecord file
        raise DataNotFoundError(
            f"The IMDB dataset in {folder} could not be read ({type(exc).__name__}); it may be "
            f"incomplete. Delete {folder / DATASET} to prepare it again, or point --data-dir or "
            f"TFDS_DATA_DIR at a complete copy."
        ) from None
    return texts, np.asarray(labels, dtype=np.int32)
