"""The prepared ids in a run folder: what `prepare` writes once and training memory-maps.

    prepare (ids, labels; the teacher's ids and targets) -> .tmp files -> renamed -> prepared.json
    -> load_prepared: the training part and the teacher's rows read as one (`Stacked`)

Each array is written under a temporary name (its disk space reserved first, so a full disk is
an error, not a crash while writing through the memory map), then all are renamed into place and
`prepared.json` lists their sha256 last: the commit point. `load_prepared` (what `--resume`
reads) accepts the files only if prepared.json names each with the same sha256 and each is a
regular file; anything missing, changed, half-written or not a file raises `NotPrepared`, and
the caller prepares them again from the data. The files are deleted when the run completes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import DataFileError
from sentiment_rnn.files.atomic import read_json, sha256_file, write_json_atomic

IDS_FILES = {"train": "ids-train.npy", "validation": "ids-validation.npy"}
LABEL_FILES = {"train": "labels-train.npy", "validation": "labels-validation.npy"}
UNLABELLED_FILES = ("ids-unlabelled.npy", "targets-unlabelled.npy")  # the teacher's
PREPARED_JSON = "prepared.json"
ALL_FILES = (*IDS_FILES.values(), *LABEL_FILES.values(), *UNLABELLED_FILES, PREPARED_JSON)


class NotPrepared(FileNotFoundError):
    """The run folder's prepared files are missing or do not match prepared.json."""


def ids_dtype(vocab_size: int):
    """uint16 when the vocabulary fits, so a review's ids take half the space."""
    return np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.int32


class PreparedFiles:
    """The files one `prepare` writes into `folder`, under temporary names until `commit`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.pending: dict[str, Path] = {}  # final name -> temporary path

    def _tmp(self, name: str) -> Path:
        path = self.folder / f".{name}.tmp"  # what remove_stale_files clears after a kill
        self.pending[name] = path
        return path

    def new_array(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """A zero array memory-mapped from a new temporary .npy file, its space reserved."""
        path = self._tmp(name)
        try:
            array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
            if hasattr(os, "posix_fallocate") and array.size:
                with open(path, "r+b") as f:  # ENOSPC here is an OSError, not a SIGBUS later
                    os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
        except OSError as exc:
            raise _named(exc, self.folder / name) from None
        return array

    def save(self, name: str, array: np.ndarray) -> None:
        try:
            with open(self._tmp(name), "wb") as f:  # a file object: np.save adds no ".npy"
                np.save(f, array)
        except OSError as exc:  # numpy's "N requested and M written" is a full disk too
            raise _named(exc, self.folder / name) from None

    def commit(self) -> dict:
        """Rename every file into place, then write prepared.json with their sha256; return
        those (config.json keeps them too, so a later re-preparation can be checked)."""
        for name in (*self.pending, PREPARED_JSON):
            if os.path.isdir(self.folder / name) and not os.path.islink(self.folder / name):
                raise DataFileError(f"{self.folder / name}: is a folder where the run keeps a "
                                    f"file; remove it and run the command again")
        digests = {}
        for name, tmp in self.pending.items():
            digests[name] = sha256_file(tmp)
        for name, tmp in self.pending.items():
            os.replace(tmp, self.folder / name)
        write_json_atomic(self.folder / PREPARED_JSON, {"sha256": digests})
        self.pending = {}
        return digests


def with_unlabelled(train_part, extra):
    """The training part followed by the teacher-labelled rows: (Stacked ids, float targets)."""
    (ids, labels), (more_ids, targets) = train_part, extra
    return Stacked(ids, more_ids), np.concatenate([labels.astype(np.float32),
                                                   np.asarray(targets, dtype=np.float32)])


class Stacked:
    """Two (rows, max_len) id arrays read as one, the rows of the first and then the second's,
    without copying either (both may be memory maps): what the training batches index."""

    def __init__(self, first: np.ndarray, second: np.ndarray):
        if first.shape[1:] != second.shape[1:]:
            raise DataFileError("the labelled and unlabelled ids have different widths")
        self.parts = (first, second)
        self.shape = (len(first) + len(second), *first.shape[1:])
        self.dtype = first.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            key = np.arange(*key.indices(len(self)))
        rows = np.asarray(key)
        first, second = self.parts
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        head = rows < len(first)
        out[head] = first[rows[head]]
        out[~head] = second[rows[~head] - len(first)]
        return out


def _named(exc: OSError, path: Path) -> OSError:
    """The error with the file it was writing named (a full disk is the usual cause)."""
    code = exc.errno if exc.errno is not None else errno.ENOSPC
    why = exc.strerror or f"{exc}; is the disk full?"
    return OSError(code, why, str(path))


def _checked(folder: Path, name: str, digests: dict) -> Path:
    path = folder / name
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise NotPrepared(f"{path} is missing") from None
    if not stat.S_ISREG(mode) or digests.get(name) != sha256_file(path):
        raise NotPrepared(f"{path} does not match {PREPARED_JSON}")
    return path


def load_prepared(folder: Path, expected: dict | None = None):
    """The (ids, labels) of both parts that `prepare` wrote into a run folder, ids
    memory-mapped (read-only), the training part followed by the teacher's rows if it wrote
    them; `NotPrepared` unless every file matches prepared.json, and prepared.json matches
    `expected` (the sha256 config.json recorded when the run started) when given."""
    folder = Path(folder)
    if not os.path.lexists(folder / PREPARED_JSON):
        raise NotPrepared(f"{folder / PREPARED_JSON} is missing")
    try:
        digests = read_json(folder / PREPARED_JSON)["sha256"]
    except Exception:
        raise NotPrepared(f"{folder / PREPARED_JSON} cannot be read") from None
    if not isinstance(digests, dict):
        raise NotPrepared(f"{folder / PREPARED_JSON} lists no files")
    if expected is not None and digests != expected:
        raise NotPrepared(f"{folder / PREPARED_JSON} does not match config.json")
    out = []
    for part in ("train", "validation"):
        ids = np.load(_checked(folder, IDS_FILES[part], digests), mmap_mode="r",
                      allow_pickle=False)
        ys = np.load(_checked(folder, LABEL_FILES[part], digests), allow_pickle=False)
        if ids.ndim != 2 or len(ids) != len(ys):
            raise DataFileError(f"{folder}: {IDS_FILES[part]} and {LABEL_FILES[part]} do not "
                                f"match")
        out.append((ids, ys))
    if any(name in digests for name in UNLABELLED_FILES):
        ids = np.load(_checked(folder, UNLABELLED_FILES[0], digests), mmap_mode="r",
                      allow_pickle=False)
        targets = np.load(_checked(folder, UNLABELLED_FILES[1], digests), allow_pickle=False)
        if ids.ndim != 2 or targets.shape != (len(ids),):
            raise DataFileError(f"{folder}: {UNLABELLED_FILES[0]} and {UNLABELLED_FILES[1]} "
                                f"do not match")
        out[0] = with_unlabelled(out[0], (ids, targets))
    return out[0], out[1]


def prepared_sha256(config_file: Path) -> dict | None:
    """The sha256 of the prepared files as config.json recorded them when the run started
    (None for a run from before 0.3.0)."""
    data = read_json(config_file).get("data")
    saved = data.get("prepared_sha256") if isinstance(data, dict) else None
    return saved if isinstance(saved, dict) else None


def remove_prepared(folder: Path) -> None:
    """Delete the prepared files once a run is complete: nothing reads them after."""
    for name in ALL_FILES:
        try:
            os.unlink(Path(folder) / name)
        except FileNotFoundError:
            pass
