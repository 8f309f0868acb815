"""The run folder: everything needed to use a trained model, written atomically, loaded safely.

    config.json      TrainConfig, vocabulary size and sha256, library versions
    vocab.txt        one word per line; line N is id N-1 (0 = <pad>, 1 = <oov>)
    model.keras      the best model (highest validation accuracy)
    weights.npz      the same weights for the NumPy forward pass (no TensorFlow needed)
    history.json     per-epoch loss and accuracy, training and validation, and seconds
    training_log.csv the same as Keras' CSVLogger writes it; logs/ TensorBoard event files
    learning_curves.png  the same history drawn, the best epoch marked (plots.py)
    vectors.tsv, metadata.tsv  the best embedding and its words for the Embedding Projector
    state.json       training progress: last finished epoch, best epoch, early-stopping count,
                     the sha256 of model.keras and weights.npz (and of config.json and
                     vocab.txt under settings_sha256), the name of the checkpoint
    checkpoint-NNN.keras  the model after the last finished epoch NNN, with optimizer state
    .lock            held (flock) by the one process training or resuming the run (run_dirs.py)

Every file is written under a temporary name and renamed into place, and state.json is written
last in each epoch, so a killed process never leaves a half-written or inconsistent run: what
state.json names is complete, and anything newer is redone on --resume. Before a new best model
replaces model.keras and weights.npz, state.json lists their new sha256 as `pending`, so a
reader (predict during training) always finds the file it reads in the state.json it reads next.
A run is found by --model, else `models/latest` (run_dirs.py sets it). Run files are read only if they are regular files (a FIFO or a
folder in their place is an error, never a hang) of bounded size (FILE_LIMITS; the model
files by the configuration's weight count). A model file whose sha256 state.json does not
record is refused as unverified: `sentiment-rnn seal` (sealing.py) records the files of a run
edited on purpose. config.json and vocab.txt are checked against settings_sha256 the same way
when state.json records it (a run written by 0.3.0 or earlier has none: they load unverified).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from sentiment_rnn.config import FILE_LIMITS, TrainConfig
from sentiment_rnn.errors import ConfigError, RunFolderError
from sentiment_rnn.files.atomic import (MAX_RUN_FILE, parse_json, read_bytes, read_json,
                                        write_json_atomic, write_text_atomic)
from sentiment_rnn.files.run_dirs import DEFAULT_MODELS_DIR, LATEST
from sentiment_rnn.files.run_state import SETTINGS_FILES, check_state
from sentiment_rnn.files.vocab_file import read_vocabulary
from sentiment_rnn.text.vocabulary import Vocabulary


@dataclass
class Run:
    """A run folder and what its config.json and vocab.txt say."""

    path: Path
    config: TrainConfig
    vocab: Vocabulary
    settings: dict = field(default_factory=dict)  # sha256 of config.json, vocab.txt as loaded

    config_file = property(lambda self: self.path / "config.json")
    vocab_file = property(lambda self: self.path / "vocab.txt")
    model_file = property(lambda self: self.path / "model.keras")
    weights_file = property(lambda self: self.path / "weights.npz")
    history_file = property(lambda self: self.path / "history.json")
    state_file = property(lambda self: self.path / "state.json")

    def save_config(self, versions: dict, data: dict | None = None) -> None:
        """config.json: the settings, the vocabulary's size and sha256, the library versions
        and where the training data came from (path or dataset, sha256, row counts)."""
        write_json_atomic(self.config_file, {
            "config": self.config.to_dict(),
            "vocab": {"file": self.vocab_file.name, "size": len(self.vocab),
                      "sha256": self.vocab.sha256()},
            "versions": versions,
            "data": data or {},
        })

    def save_vocab(self) -> None:
        write_text_atomic(self.vocab_file, self.vocab.text())

    def state(self) -> dict:
        """state.json, checked field by field; {} before the first epoch has finished."""
        if not (self.state_file.exists() or self.state_file.is_symlink()):
            return {}
        return check_state(read_json(check_size(self.state_file)), self.path)

    def settings_sha256(self) -> dict:
        """The sha256 of config.json and vocab.txt as they are on disk now (training records
        them in state.json: it wrote them, and holds the run's lock)."""
        return {name: hashlib.sha256(read_bytes(check_size(self.path / name))).hexdigest()
                for name in SETTINGS_FILES}

    def verify_settings(self) -> None:
        """Check the loaded config.json and vocab.txt against state.json's settings_sha256;
        nothing to check when state.json has none (a run from 0.3.0 or earlier)."""
        recorded = self.state().get("settings_sha256")
        for name in SETTINGS_FILES:
            if recorded is not None and recorded[name] != self.settings.get(name):
                raise _damaged(self.path, name)

    def file_limit(self, name: str) -> int:
        """The most bytes a model file of this run's configuration can take: weights.npz
        holds each weight once (at most float64), model.keras also the optimizer's state."""
        per_weight = {"weights.npz": 8, "model.keras": 32}.get(name)
        if per_weight is None:
            return FILE_LIMITS.get(name, MAX_RUN_FILE)
        return min(MAX_RUN_FILE, per_weight * self.config.parameters + (16 << 20))

    def read_verified(self, path: Path) -> bytes:
        """The bytes of a model file, after checking they match a sha256 in state.json.

        state.json lists a new best model's sha256 as pending before the file is replaced, so
        when a file read during training matches neither, state.json has changed since it
        was read: read both again. A file that matches nothing in an unchanged state.json is
        damaged."""
        path = Path(path)
        state = self.state()
        for _ in range(20):
            data = read_bytes(check_size(path, self.file_limit(path.name)))
            if _matches(state, path.name, hashlib.sha256(data).hexdigest()):
                return data
            newer = self.state()
            if newer == state and not _recorded(state, path.name):
                why = ("state.json records no sha256 for it" if self.state_file.exists() or
                       self.state_file.is_symlink() else "state.json, which records the sha256 "
                       "of the model files, is missing")
                raise RunFolderError(f"{self.path}: {path.name} is unverified ({why}); if you "
                                     f"changed the run on purpose, seal it: {_seal(self.path)}")
            if newer == state:
                raise _damaged(self.path, path.name)
            state = newer
        raise RunFolderError(f"{self.path}: {path.name} kept changing while it was read")

    def verify_files(self, skip: str | None = None) -> None:
        """Check every model file that training recorded a sha256 for (but `skip`)."""
        for name in self.state().get("sha256", {}):
            if name != skip:
                self.read_verified(self.path / name)


def _seal(run_dir: Path) -> str:
    return f"sentiment-rnn seal {shlex.quote(str(run_dir))}"


def _damaged(run_dir: Path, name: str) -> RunFolderError:
    return RunFolderError(f"{run_dir}: {name} is damaged (its sha256 differs from the one "
                          f"recorded in state.json); if you changed it on purpose, seal the "
                          f"run: {_seal(run_dir)}")


def _matches(state: dict, name: str, digest: str) -> bool:
    return digest in (state.get("sha256", {}).get(name), state.get("pending", {}).get(name))


def _recorded(state: dict, name: str) -> bool:
    return any(name in state.get(key, {}) for key in ("sha256", "pending"))


def check_size(path: Path, limit: int | None = None) -> Path:
    """`path`, after checking that the file is at most `limit` bytes (its FILE_LIMITS entry)."""
    path = Path(path)
    limit = FILE_LIMITS.get(path.name, MAX_RUN_FILE) if limit is None else limit
    try:
        size = os.stat(path).st_size
    except OSError:
        return path  # missing, a loop, ...: the reader names it
    if size > limit:
        raise RunFolderError(f"{path.parent}: {path.name} is too large ({size:,} bytes; at "
                             f"most {limit:,} are read)")
    return path


def load_run(path: str | os.PathLike, verify: bool = True) -> Run:
    """Read and cross-check a run folder's config and vocabulary, then (`verify`) check their
    bytes against the sha256 state.json records. Loads no weights."""
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path}: no such run folder")
    config_bytes = read_bytes(check_size(path / "config.json"))
    meta = parse_json(config_bytes, path / "config.json")
    if not isinstance(meta, dict) or "config" not in meta:
        raise RunFolderError(f"{path}: config.json has no \"config\" entry")
    try:
        config = TrainConfig.from_dict(meta["config"])
    except ConfigError as exc:
        raise RunFolderError(f"{path}: config.json is invalid ({exc})") from None
    vocab_bytes = read_vocabulary(path / "vocab.txt", config.vocab_size)  # counted first
    vocab = Vocabulary.from_bytes(vocab_bytes, path / "vocab.txt")
    if len(vocab) != config.vocab_size:
        raise RunFolderError(f"{path}: vocab.txt has {len(vocab)} entries but config.json says "
                             f"vocab_size {config.vocab_size}")
    expected = meta.get("vocab", {}).get("sha256") if isinstance(meta.get("vocab"), dict) else None
    if not isinstance(expected, str):
        raise RunFolderError(f"{path}: config.json has no sha256 of vocab.txt (its \"vocab\" "
                             f"entry is damaged)")
    if expected != vocab.sha256():
        raise RunFolderError(f"{path}: vocab.txt does not match the sha256 in config.json "
                             f"(was it edited?)")
    digests = [hashlib.sha256(data).hexdigest() for data in (config_bytes, vocab_bytes)]
    run = Run(path, config, vocab, dict(zip(("config.json", "vocab.txt"), digests)))
    if verify:
        run.verify_settings()
    return run


def resolve_run_dir(model: str | os.PathLike | None,
                    models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """--model if given, else models/latest."""
    if model:
        return Path(model)
    latest = Path(models_dir) / LATEST
    fix = "train a model (which points it at the new run), or pass --model RUN_DIR"
    try:
        is_dir = os.path.isdir(os.path.realpath(latest, strict=True))
    except FileNotFoundError:
        if latest.is_symlink():
            raise RunFolderError(f"{latest}: points at {os.readlink(latest)}, which does not "
                                 f"exist; {fix}") from None
        raise RunFolderError(f"no trained model found ({latest} does not exist): run "
                             f"`sentiment-rnn train` first, or pass --model RUN_DIR") from None
    except OSError as exc:  # a symlink loop, models/ not a folder, no permission
        why = "is a symlink loop" if exc.errno == errno.ELOOP else f"cannot be read " \
            f"({exc.strerror})"
        raise RunFolderError(f"{latest}: {why}; {fix}") from None
    if not is_dir:
        raise RunFolderError(f"{latest}: points at {os.readlink(latest)}, which is not a run "
                             f"folder; {fix}" if latest.is_symlink() else
                             f"{latest}: is not a run folder; {fix}")
    target = Path(os.readlink(latest)) if latest.is_symlink() else None
    if target is not None and not target.is_absolute() and ".." not in target.parts:
        return Path(models_dir) / target  # models/<run>, as set_latest wrote it
    return latest.resolve()
