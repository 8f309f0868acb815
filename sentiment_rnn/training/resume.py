"""Resume: a stopped run folder -> its last checkpoint and prepared ids -> the epoch loop again.

The prepared ids written when the run started are read back when they match prepared.json;
otherwise they are prepared again from the data and refused unless they are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sentiment_rnn.data.id_store import (ALL_FILES, load_prepared, prepared_sha256,
                                         remove_prepared)
from sentiment_rnn.data.prepare import Source, prepare
from sentiment_rnn.errors import DataFileError, RunFolderError
from sentiment_rnn.evaluation.plots import plot_learning_curves
from sentiment_rnn.files.atomic import read_bytes
from sentiment_rnn.files.run_dirs import (DEFAULT_MODELS_DIR, RunLock, check_latest,
                                          remove_stale_files)
from sentiment_rnn.files.run_folder import load_run
from sentiment_rnn.nn.callbacks import deterministic
from sentiment_rnn.nn.keras_model import UnloadableModel, custom_objects, load_keras_bytes
from sentiment_rnn.training.epochs import TrainResult, finish, fit_or_say, verbosity


def load_checkpoint(path: Path):
    """The model after the last finished epoch, with its optimizer state (safe_mode on). The
    file must be a regular file; it is loaded from a private copy of the bytes checked."""
    try:
        return load_keras_bytes(read_bytes(path), path.name, custom_objects=custom_objects())
    except UnloadableModel as exc:
        raise RunFolderError(f"{path.parent}: {path.name} cannot be loaded ({exc.kind})") from None


@deterministic
def resume(run_dir: Path, data_dir=None, models_dir: Path = DEFAULT_MODELS_DIR,
           echo: Callable[[str], None] = print, verbose: int | None = None) -> TrainResult:
    """Continue a stopped run after its last finished epoch, with its saved settings."""
    verbose = verbosity(verbose)
    run = load_run(run_dir)
    check_latest(models_dir, run.path)
    with RunLock(run.path):
        state = run.state()
        if not state.get("checkpoint"):
            raise RunFolderError(f"{run.path}: no finished epoch to resume from; start a new "
                                 f"run instead (the folder holds only its settings)")
        if state.get("completed"):
            if not any((run.path / name).exists() for name in ALL_FILES):
                raise RunFolderError(f"{run.path}: this run already finished; nothing to "
                                     f"resume")
            # killed after its last state.json, before its clean-up: do the clean-up
            remove_stale_files(run.path, keep=state["checkpoint"])
            plot_learning_curves(state["history"], run.path / "learning_curves.png",
                                 state["best_epoch"])
            finish(run, state, models_dir, echo)
            return TrainResult(run.path, state["epoch"], state["best_epoch"],
                               state["best_val_accuracy"], True)
        model = load_checkpoint(run.path / state["checkpoint"])  # checked before any deleting
        remove_stale_files(run.path, keep=state["checkpoint"])
        try:  # the ids written when the run started: no data is read again
            train_part, val_part = load_prepared(run.path, prepared_sha256(run.config_file))
        except FileNotFoundError as exc:  # missing or changed: the data is the source
            echo(f"The prepared ids cannot be used ({exc}); preparing them again from the data")
            train_part, val_part = _prepare_again(run, data_dir, echo)
        echo(f"Resuming {run.path} after epoch {state['epoch']}")
        return fit_or_say(run, model, state, train_part, val_part, models_dir, echo, verbose)


def _prepare_again(run, data_dir, echo):
    """The run's ids and targets, prepared again from the data; refused (and removed) unless
    they are exactly what the run started with (config.json keeps their sha256): another data
    folder or an edited file would silently train the rest of the run on other data."""
    source = Source()
    _, train_part, val_part = prepare(run.config, data_dir, run.vocab, folder=run.path,
                                      source=source, teacher=True, echo=echo)
    saved = prepared_sha256(run.config_file)
    now = source.description.get("prepared_sha256")
    if saved is not None and saved != now:
        remove_prepared(run.path)
        changed = sorted(k for k in set(saved) | set(now or {}) if saved.get(k) != now.get(k))
        raise DataFileError(f"{run.path}: the training data read now is not what the run "
                            f"started with ({', '.join(changed)} differ); resume with the same "
                            f"data (--data-dir, and the same files)")
    return train_part, val_part
