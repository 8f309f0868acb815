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
                     the sha256 of model.keras and weights.npz, the name of the checkpoint
    checkpoint-NNN.keras  the model after the last finished epoch NNN, with optimizer state
    .lock            held (flock) by the one process training or resuming the run

Every file is written under a temporary name and renamed into place, and state.json is written
last in each epoch, so a killed process never leaves a half-written or inconsistent run: what
state.json names is complete, and anything newer is redone on --resume. Before a new best model
replaces model.keras and weights.npz, state.json lists their new sha256 as `pending`, so a
reader (predict during training) always finds the file it reads in the state.json it reads next.
`models/latest` is a symlink to the most recent completed run. Run files are read only if they
are regular files (a FIFO or a folder in their place is an error, never a hang).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .config import LIMITS, TrainConfig
from .errors import ConfigError, RunFolderError
from .fileio import read_bytes, read_json, write_json_atomic, write_text_atomic
from .text import Vocabulary

DEFAULT_MODELS_DIR = Path("models")
LATEST = "latest"


def remove_stale_files(run_dir: Path, keep: str) -> None:
    """Delete temporary files left by a killed write and checkpoints older than `keep`.
    Only the holder of the run's lock calls this, so no other process's file is touched."""
    for path in Path(run_dir).iterdir():
        stale_tmp = path.name.startswith(".") and ".tmp" in path.name
        old_checkpoint = path.name.startswith("checkpoint-") and path.name != keep
        if stale_tmp and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif stale_tmp or old_checkpoint:
            path.unlink()


def create_run_dir(run_dir: Path | None, models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """Make the folder of a new run, atomically: `run_dir` (which may exist if empty), or a new
    models/<timestamp>[-N] that no other process can also get."""
    if run_dir is not None:
        run_dir = Path(run_dir)
        try:
            run_dir.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError, FileNotFoundError):
            raise RunFolderError(f"{run_dir.parent}: is not a folder (a file or a dangling "
                                 f"symlink is in the way)") from None
        try:
            run_dir.mkdir()
        except FileExistsError:
            if (run_dir / ".lock").exists():
                with RunLock(run_dir):  # says "in use" when another process trains it
                    pass
            if not run_dir.is_dir() or any(run_dir.iterdir()):
                raise RunFolderError(f"{run_dir}: exists and is not an empty folder; choose "
                                     f"another --run-dir, or continue it with --resume "
                                     f"{run_dir}") from None
        return run_dir
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        path = models_dir / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir()  # fails if another process made it first
            return path
        except FileExistsError:
            continue
    raise RunFolderError(f"{models_dir}: cannot find a free name for a new run")


class RunLock:
    """An exclusive lock on a run folder, held while a process trains or resumes it. The
    kernel drops it when the process ends, however it ends, so a killed run can be resumed."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise RunFolderError(f"{self.path.parent}: in use by another process that is "
                                     f"training it; wait for it to finish") from None
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None


def check_latest(models_dir: Path = DEFAULT_MODELS_DIR) -> None:
    """Refuse early, before any training, what would stop `set_latest` at the end."""
    models_dir = Path(models_dir)
    if models_dir.exists() and not models_dir.is_dir():
        raise RunFolderError(f"{models_dir}: exists and is not a folder; runs are saved in "
                             f"{models_dir}/")
    latest = models_dir / LATEST
    if (latest.exists() or latest.is_symlink()) and not latest.is_symlink():
        raise RunFolderError(f"{latest}: is not a symlink; move it away so that it can point "
                             f"at the newest run")


@dataclass
class Run:
    """A run folder and what its config.json and vocab.txt say."""

    path: Path
    config: TrainConfig
    vocab: Vocabulary

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
        return check_state(read_json(self.state_file), self.path)

    def read_verified(self, path: Path) -> bytes:
        """The bytes of a model file, after checking they match a sha256 in state.json.

        state.json lists a new best model's sha256 as pending before the file is replaced, so
        when a file read during training matches neither, state.json has changed since it
        was read: read both again. A file that matches nothing in an unchanged state.json is
        damaged."""
        path = Path(path)
        state = self.state()
        for _ in range(20):
            data = read_bytes(path)
            if _matches(state, path.name, hashlib.sha256(data).hexdigest()):
                return data
            newer = self.state()
            if newer == state:
                raise RunFolderError(f"{self.path}: {path.name} is damaged (its sha256 differs "
                                     f"from the one recorded in state.json)")
            state = newer
        raise RunFolderError(f"{self.path}: {path.name} kept changing while it was read")

    def verify_files(self, skip: str | None = None) -> None:
        """Check every model file that training recorded a sha256 for (but `skip`)."""
        for name in self.state().get("sha256", {}):
            if name != skip:
                self.read_verified(self.path / name)


def _matches(state: dict, name: str, digest: str) -> bool:
    recorded = state.get("sha256", {}).get(name)
    return recorded is None or digest in (recorded, state.get("pending", {}).get(name))


STATE_FIELDS = {"epoch": int, "best_epoch": int, "wait": int, "completed": bool,
                "history": list, "checkpoint": str, "sha256": dict, "pending": dict,
                "best_val_accuracy": (float, int, type(None)),
                "best_val_loss": (float, int, type(None))}
HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


def check_state(state: object, run_dir: Path) -> dict:
    """state.json as training wrote it, or a RunFolderError naming the first field that is not."""
    def bad(why: str) -> RunFolderError:
        return RunFolderError(f"{run_dir}: state.json is invalid ({why})")

    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value)

    if not isinstance(state, dict):
        raise bad("not a JSON object")
    for name, kind in STATE_FIELDS.items():
        value = state.get(name)
        if name in state and (not isinstance(value, kind) or
                              (kind is int and isinstance(value, bool))):
            raise bad(f"{name} is {json.dumps(value)[:40]}")
    for name in ("sha256", "pending"):
        for key, digest in state.get(name, {}).items():
            if key not in ("model.keras", "weights.npz") or not isinstance(digest, str):
                raise bad(f"{name} has {json.dumps(key)[:40]}: {json.dumps(digest)[:70]}")
    checkpoint = state.get("checkpoint")
    if checkpoint is not None and (Path(checkpoint).name != checkpoint or
                                   not checkpoint.startswith("checkpoint-")):
        raise bad(f"checkpoint is {json.dumps(checkpoint)[:60]}")
    epoch = state.get("epoch", 0)
    if not 0 <= epoch <= LIMITS["epochs"]:
        raise bad(f"epoch is {str(epoch)[:40]}")
    if not 0 <= state.get("best_epoch", 0) <= epoch or not 0 <= state.get("wait", 0) <= epoch:
        raise bad("best_epoch or wait is not one of the finished epochs")
    if state.get("best_epoch") and not (number(state.get("best_val_accuracy"))
                                        and number(state.get("best_val_loss"))):
        raise bad("best_val_accuracy and best_val_loss must be numbers once an epoch is best")
    history = state.get("history", [])
    if "history" in state and len(history) != epoch:
        raise bad(f"history has {len(history)} rows for {epoch} finished epochs")
    for i, row in enumerate(history, 1):
        if not (isinstance(row, dict) and row.get("epoch") == i and
                all(number(row.get(k)) for k in HISTORY_KEYS)):
            raise bad(f"history row {i} is not epoch {i} with {', '.join(HISTORY_KEYS)}")
    return state


def load_run(path: str | os.PathLike) -> Run:
    """Read and cross-check a run folder's config and vocabulary. Loads no weights."""
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path}: no such run folder")
    meta = read_json(path / "config.json")
    if not isinstance(meta, dict) or "config" not in meta:
        raise RunFolderError(f"{path}: config.json has no \"config\" entry")
    try:
        config = TrainConfig.from_dict(meta["config"])
    except ConfigError as exc:
        raise RunFolderError(f"{path}: config.json is invalid ({exc})") from None
    vocab = Vocabulary.load(path / "vocab.txt")
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
    return Run(path, config, vocab)


def set_latest(run_dir: Path, models_dir: Path = DEFAULT_MODELS_DIR) -> None:
    """Point models/latest at run_dir, atomically (a new symlink renamed over the old)."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(run_dir).resolve()
    try:
        target = os.path.relpath(run_dir, models_dir.resolve())
    except ValueError:
        target = str(run_dir)
    tmp = models_dir / f".{LATEST}.tmp{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, models_dir / LATEST)


def resolve_run_dir(model: str | os.PathLike | None,
                    models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """--model if given, else models/latest."""
    if model:
        return Path(model)
    latest = Path(models_dir) / LATEST
    if not latest.exists():
        raise RunFolderError(f"no trained model found ({latest} does not exist): run "
                             f"`sentiment-rnn train` first, or pass --model RUN_DIR")
    target = Path(os.readlink(latest)) if latest.is_symlink() else None
    if target is not None and not target.is_absolute() and ".." not in target.parts:
        return Path(models_dir) / target  # models/<run>, as set_latest wrote it
    return latest.resolve()
