"""Run folders on disk, before and after training: made, locked, cleaned, pointed at.

    --run-dir or models/<timestamp> (made atomically) -> .lock held while training -> models/latest

A new run's folder is made so that no other process can also get it: an empty --run-dir, or a
new models/<timestamp>[-N]. `.lock` is held (flock) by the one process training or resuming the
run; the kernel drops it however that process ends. `models/latest` is a symlink to the most
recent completed run inside models/ (a run saved elsewhere never moves it), replaced atomically.
What is in a run folder, and how it is read, is run_folder.py's.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from datetime import datetime
from pathlib import Path

from sentiment_rnn.errors import RunFolderError

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


def moves_latest(run_dir: Path | None, models_dir: Path = DEFAULT_MODELS_DIR) -> bool:
    """Whether a run finished in `run_dir` moves models_dir/latest: only a run folder inside
    models_dir does (None: a new models/<timestamp>); a run saved elsewhere never moves it."""
    if run_dir is None:
        return True
    # realpath, not resolve(): a symlink loop is named later by check_latest, not raised here
    run, models = Path(os.path.realpath(run_dir)), Path(os.path.realpath(models_dir))
    return run != models and run.is_relative_to(models)


def check_latest(models_dir: Path = DEFAULT_MODELS_DIR, run_dir: Path | None = None) -> None:
    """Refuse early, before any training, what would stop `set_latest` at the end (nothing
    when the run, in `run_dir`, will not move models/latest)."""
    if not moves_latest(run_dir, models_dir):
        return
    models_dir = Path(models_dir)
    if models_dir.is_symlink() and not models_dir.exists():
        raise RunFolderError(f"{models_dir}: is a dangling symlink or a symlink loop; runs are "
                             f"saved in {models_dir}/")
    if models_dir.exists() and not models_dir.is_dir():
        raise RunFolderError(f"{models_dir}: exists and is not a folder; runs are saved in "
                             f"{models_dir}/")
    latest = models_dir / LATEST
    if (latest.exists() or latest.is_symlink()) and not latest.is_symlink():
        raise RunFolderError(f"{latest}: is not a symlink; move it away so that it can point "
                             f"at the newest run")


def set_latest(run_dir: Path, models_dir: Path = DEFAULT_MODELS_DIR) -> bool:
    """Point models/latest at run_dir, atomically (a new symlink renamed over the old), if the
    run is inside models_dir (`moves_latest`); returns whether it did."""
    if not moves_latest(run_dir, models_dir):
        return False
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
    return True
