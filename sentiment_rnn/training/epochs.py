"""The epoch loop: prepared ids -> one `model.fit` per epoch -> the run folder, committed each epoch.

Ours, not Keras' BackupAndRestore, because that is what makes resume exact: everything random in
an epoch (its batch order and the dropout masks) is derived from (seed, epoch) alone, and the run
folder is committed between epochs (best model, checkpoint, history, then state.json last).
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.evaluation.plots import plot_learning_curves
from sentiment_rnn.files.atomic import sha256_file, write_atomic, write_json_atomic, write_temp
from sentiment_rnn.files.run_dirs import LATEST, remove_stale_files, set_latest
from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.data.id_store import remove_prepared
from sentiment_rnn.nn.batching import (JIT_VALIDATION_BATCH, JIT_WIDTHS, lengths,
                                        shuffled_buckets, sorted_batches)
from sentiment_rnn.nn.callbacks import (StopOnSignal, WeightAverage, batches, drop_logs,
                                        progress_bar, seed_dropout, targets,
                                        validation_timer)
from sentiment_rnn.nn.keras_model import compile_model, inference_copy, weight_arrays
from sentiment_rnn.nn.numpy_cells import numpy_class
from sentiment_rnn.prediction.predictor import load_numpy_model
from sentiment_rnn.training.logs import CSV_LOG, export_embedding, tensorboard, write_csv_log


@dataclass
class TrainResult:
    run_dir: Path
    epochs_run: int  # epochs finished, in total over every resume
    best_epoch: int  # 1-based
    best_val_accuracy: float
    completed: bool  # False when stopped by Ctrl-C; --resume continues it


def verbosity(verbose: int | None) -> int:
    return (1 if sys.stdout.isatty() else 2) if verbose is None else verbose


def save_keras(model, path: Path) -> None:
    write_atomic(path, lambda tmp: model.save(tmp))


def fit_or_say(run: Run, *args) -> TrainResult:
    """`fit`, a file that cannot be written (a full disk) said in one line with what is kept:
    the run as of its last finished epoch, to resume, or nothing."""
    try:
        return fit(run, *args)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        why = f"{where}{exc.strerror or exc}"
        try:
            state = run.state()
        except RunFolderError:
            state = {}
        if state.get("checkpoint") and not state.get("completed"):
            raise RunFolderError(f"{why}; the run is kept as it was after epoch "
                                 f"{state['epoch']}: free some space, then resume it with: "
                                 f"sentiment-rnn train --resume {run.path}") from None
        if state.get("checkpoint"):
            raise RunFolderError(f"{why}; the run finished training but not its last steps: "
                                 f"free some space, then: sentiment-rnn train --resume "
                                 f"{run.path}") from None
        raise RunFolderError(f"{why}; no epoch was saved, so {run.path} is not kept") from None


def finish(run: Run, state: dict, models_dir: Path, echo: Callable[[str], None]) -> None:
    """The last steps of a completed run: the prepared ids go, the embedding is exported,
    models/latest points here if the run is inside models/ (and says so)."""
    remove_prepared(run.path)  # ids were kept for --resume only
    export_embedding(run, load_numpy_model(run).embedding)
    if set_latest(run.path, models_dir):  # only for a run inside models/
        echo(f"{Path(models_dir) / LATEST} now points at {run.path}")
    echo(f"Best epoch {state['best_epoch']}: validation accuracy "
         f"{state['best_val_accuracy']:.4f}. Saved to {run.path}")


def _save_best(run: Run, model, committed: dict) -> dict:
    """Write the new best model.keras (without training state: plain Keras loads it) and
    weights.npz; returns their sha256. state.json lists them as pending before they replace the
    old ones, so readers accept either."""
    tmp_model = write_temp(run.model_file, lambda tmp: inference_copy(model).save(tmp))
    try:
        tmp_weights = write_temp(run.weights_file,
                                 lambda tmp: numpy_class(run.config.cell).save(
                                     tmp, weight_arrays(model)))
    except BaseException:
        tmp_model.unlink()
        raise
    new = {run.model_file.name: sha256_file(tmp_model),
           run.weights_file.name: sha256_file(tmp_weights)}
    write_json_atomic(run.state_file, {**committed, "pending": new})
    os.replace(tmp_model, run.model_file)
    os.replace(tmp_weights, run.weights_file)
    return new


def fit(run: Run, model, state: dict, train_part, val_part, models_dir: Path,
        echo: Callable[[str], None], verbose: int) -> TrainResult:
    """The epoch loop: fit one epoch, keep the best model, commit state.json, stop early.

    With the weight average on, validation and the best model read the average; the
    checkpoint keeps the trained weights and, in the optimizer's state, the average."""
    config = run.config
    (x_train, y_train), (x_val, y_val) = train_part, val_part
    # the teacher's rows follow the labelled ones (id_store.Stacked)
    labelled = len(x_train.parts[0]) if hasattr(x_train, "parts") else len(x_train)
    y_train, y_val = targets(y_train, labelled), targets(y_val)
    compile_model(model, config, teacher=labelled < len(x_train),
                  optimizer=getattr(model, "optimizer", None))
    average = WeightAverage(model)
    # XLA compiles a validation step per batch shape: fewer, larger batches (the same numbers)
    widths = JIT_WIDTHS if config.jit_compile else None
    val_batches = sorted_batches(lengths(x_val), max(config.batch_size, JIT_VALIDATION_BATCH)
                                 if config.jit_compile else config.batch_size)
    state["settings_sha256"] = run.settings_sha256()  # config.json is final: written once
    committed = copy.deepcopy(state)  # what state.json holds now
    with StopOnSignal() as stopper:
        for epoch in range(state["epoch"], config.epochs):
            # the epoch's batches depend only on (seed, epoch), so a resumed run sees the same
            rng = np.random.default_rng([config.seed, epoch])
            bucket = 32 if config.length_buckets else 1
            train_batches = shuffled_buckets(lengths(x_train), config.batch_size, rng, bucket)
            seed_dropout(model, config.seed, epoch)
            started, timer = time.perf_counter(), validation_timer()
            history = model.fit(batches(x_train, y_train, train_batches, widths),
                                epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                                validation_data=batches(x_val, y_val, val_batches, widths),
                                verbose=verbose,
                                callbacks=[drop_logs("val_teacher_agreement"), timer,
                                           stopper.callback(model), average.callback(),
                                           tensorboard(run), progress_bar(config.epochs, verbose)])
            if stopper.stopped:
                average.swap_back()
                break
            logs = {k: float(v[-1]) for k, v in history.history.items()}
            logs["seconds"] = round(time.perf_counter() - started, 2)
            logs["val_seconds"] = timer.seconds  # of those seconds, validation's
            committed = _commit_epoch(run, model, state, committed, epoch, logs, average)
            if state["wait"] >= config.patience:
                echo(f"Early stopping: validation accuracy has not improved for "
                     f"{config.patience} epochs")
                break
    return _end(run, state, stopper.stopped, models_dir, echo)


def _commit_epoch(run: Run, model, state: dict, committed: dict, epoch: int, logs: dict,
                  average: WeightAverage) -> dict:
    """After a finished epoch: the best model if it is better, the checkpoint, the history,
    then state.json, the commit point. Returns what state.json now holds."""
    state["history"].append({"epoch": epoch + 1, **logs})
    state["epoch"] = epoch + 1
    # better accuracy, or the same accuracy at a lower loss
    best = state["best_epoch"] and (state["best_val_accuracy"], -state["best_val_loss"])
    if not best or (logs["val_accuracy"], -logs["val_loss"]) > best:
        state.update(best_epoch=epoch + 1, best_val_accuracy=logs["val_accuracy"],
                     best_val_loss=logs["val_loss"], wait=0)
        state["sha256"] = _save_best(run, model, committed)
    else:
        state["wait"] += 1
    average.swap_back()  # the checkpoint continues from the trained weights
    # a new name each epoch: until state.json names it, the old checkpoint stays valid
    state["checkpoint"] = f"checkpoint-{epoch + 1:03d}.keras"
    save_keras(model, run.path / state["checkpoint"])
    write_json_atomic(run.history_file, state["history"])
    write_csv_log(run.path / CSV_LOG, state["history"])
    state["completed"] = (state["wait"] >= run.config.patience
                          or state["epoch"] == run.config.epochs)
    write_json_atomic(run.state_file, state)  # the commit point of the epoch
    remove_stale_files(run.path, keep=state["checkpoint"])
    return copy.deepcopy(state)


def _end(run: Run, state: dict, stopped: bool, models_dir: Path,
         echo: Callable[[str], None]) -> TrainResult:
    """After the loop: a run whose epochs are all done is complete; the learning curves; what
    happens next said in one line."""
    if not stopped and not state["completed"] and state["epoch"] >= run.config.epochs:
        echo(f"{run.path}: {state['epoch']} epochs are finished and config.json now says at "
             f"most {run.config.epochs}: the run is complete")
        state["completed"] = True
        write_json_atomic(run.state_file, state)
    if state["history"]:
        plot_learning_curves(state["history"], run.path / "learning_curves.png",
                             state["best_epoch"])
        echo(f"Learning curves: {run.path / 'learning_curves.png'}")
    if stopped and not state["epoch"]:
        echo(f"Stopped before the first epoch finished; nothing to resume, so {run.path} "
             f"is not kept")
    elif stopped:
        echo(f"Stopped after {state['epoch']} finished epochs; the unfinished epoch was "
             f"dropped. Resume with: sentiment-rnn train --resume {run.path}")
    elif state["completed"]:
        finish(run, state, models_dir, echo)
    return TrainResult(run.path, state["epoch"], state["best_epoch"],
                       state["best_val_accuracy"], state["completed"])
