"""The run folder: everything needed to use a trained model, written atomically, loaded safely.

    config.json      TrainConfig, vocabulary size and sha256, library versions
    vocab.txt        one word per line; line N is id N-1 (0 = <pad>, 1 = <oov>)
    model.keras      the best model (highest validation accuracy)
    weights.npz      the same weights for the NumPy forward pass (no TensorFlow needed)
    history.json     per-epoch loss and accuracy, training and validation
    learning_curves.png  the same history drawn (reports.write_learning_curves)
    state.json       training progress: last finished epoch, best epoch, early-stopping count,
                     the sha256 of model.keras and weights.npz, the name of the checkpoint
    checkpoint-NNN.keras  the model after the last finished epoch NNN, with optimizer state

Every file is written under a temporary name and renamed into place, and state.json is written
last in each epoch, so a killed process never leaves a half-written or inconsistent run: what
state.json names is complete, and anything newer is redone on --resume. `models/latest` is a
symlink to the most recent completed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .config import TrainConfig
from .errors import ConfigError, RunFolderError
from .text import Vocabulary

DEFAULT_MODELS_DIR = Path("models")
LATEST = "latest"


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                               dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path.parent}: {path.name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path.parent}: {path.name} is not valid JSON ({exc})") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_files(run_dir: Path, keep: str) -> None:
    """Delete temporary files left by a killed write and checkpoints older than `keep`."""
    for path in Path(run_dir).iterdir():
        stale_tmp = path.name.startswith(".") and ".tmp" in path.name
        old_checkpoint = path.name.startswith("checkpoint-") and path.name != keep
        if stale_tmp or old_checkpoint:
            path.unlink()


def new_run_dir(models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(models_dir) / stamp
    n = 1
    while path.exists():
        n += 1
        path = Path(models_dir) / f"{stamp}-{n}"
    return path


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

    def save_config(self, versions: dict) -> None:
        write_json_atomic(self.config_file, {
            "config": self.config.to_dict(),
            "vocab": {"file": self.vocab_file.name, "size": len(self.vocab),
                      "sha256": self.vocab.sha256()},
            "versions": versions,
        })

    def save_vocab(self) -> None:
        write_text_atomic(self.vocab_file, self.vocab.text())

    def state(self) -> dict:
        state = read_json(self.state_file) if self.state_file.exists() else {}
        if not isinstance(state, dict):
            raise RunFolderError(f"{self.path}: state.json is not a JSON object")
        return state

    def verified(self, path: Path) -> Path:
        """`path`, after checking it exists and matches the sha256 that training recorded."""
        self._check(path, self.state().get("sha256", {}))
        return path

    def verify_files(self) -> None:
        """Check every model file that training recorded a sha256 for (state.json read once)."""
        recorded = self.state().get("sha256", {})
        for name in recorded:
            self._check(self.path / name, recorded)

    def _check(self, path: Path, recorded: dict) -> None:
        if not path.exists():
            raise RunFolderError(f"{self.path}: {path.name} is missing")
        expected = recorded.get(path.name)
        if expected is not None and expected != sha256_file(path):
            raise RunFolderError(f"{self.path}: {path.name} is damaged (its sha256 differs from "
                                 f"the one recorded in state.json)")


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
    if expected is not None and expected != vocab.sha256():
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
    return latest.resolve()
