"""Training: IMDB train split -> vocabulary -> ids (once, in memory) -> Keras fit -> run folder.

The last `validation_fraction` of the train split is held out for model selection (early stopping,
best checkpoint); the test split is never read here. After every finished epoch the run folder
gets an atomic checkpoint, so `resume` continues exactly where a killed run stopped. A run folder
is locked while it trains, so a second process cannot train or resume it at the same time.

The epoch loop is ours, one `model.fit` call per epoch, because that is what makes resume exact:
everything random in an epoch (its batch order and the dropout masks) is derived from
(seed, epoch) alone, and the run folder is committed between epochs, where Keras' own
BackupAndRestore would not restore our early-stopping state and batch order.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn import __version__
from sentiment_rnn import _tf
from sentiment_rnn.nn.batching import lengths, shuffled_buckets, sorted_batches
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.nn.callbacks import (StopOnSignal, WeightAverage, batches, deterministic, drop_logs,
                     progress_bar, seed_dropout, targets)
from sentiment_rnn.data.checks import check_unlabelled
from sentiment_rnn.errors import DataFileError, RunFolderError
from sentiment_rnn.files.atomic import read_bytes, sha256_file, write_atomic, write_json_atomic, write_temp
from sentiment_rnn.training.logs import CSV_LOG, TENSORBOARD_DIR, export_embedding, tensorboard, write_csv_log
from sentiment_rnn.nn.keras_model import build_model, compile_model, custom_objects, inference_copy, weight_arrays
from sentiment_rnn.nn.numpy_rnn import NumpyRNN
from sentiment_rnn.evaluation.plots import plot_learning_curves
from sentiment_rnn.prediction.predictor import load_numpy_model
from sentiment_rnn.data.prepare import Source, prepare
from sentiment_rnn.data.teacher import why_no_teacher
from sentiment_rnn.data.id_store import (ALL_FILES, load_prepared, prepare_again, prepared_sha256,
                       remove_prepared)
from sentiment_rnn.files.run_folder import (DEFAULT_MODELS_DIR, LATEST, Run, RunLock, check_latest, create_run_dir,
                   load_run, remove_stale_files, set_latest)


@dataclass
class TrainResult:
    run_dir: Path
    epochs_run: int  # epochs finished, in total over every resume
    best_epoch: int  # 1-based
    best_val_accuracy: float
    completed: bool  # False when stopped by Ctrl-C; --resume continues it


def library_versions() -> dict:
    tf = _tf.tensorflow()
    tfds = _tf.tensorflow_datasets()
    return {"sentiment_rnn": __version__, "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": tf.keras.__version__,
            "tensorflow_datasets": tfds.__version__, "numpy": np.__version__}


def _save_keras(model, path: Path) -> None:
    write_atomic(path, lambda tmp: model.save(tmp))


def load_checkpoint(path: Path):
    """The model after the last finished epoch, with its optimizer state (safe_mode on). The
    file must be a regular file; it is loaded from a private copy of the bytes checked."""
    tf = _tf.tensorflow()
    data = read_bytes(path)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / path.name
            copy.write_bytes(data)
            return tf.keras.models.load_model(copy, safe_mode=True,
                                              custom_objects=custom_objects())
    except Exception as exc:
        raise RunFolderError(f"{path.parent}: {path.name} cannot be loaded "
                             f"({type(exc).__name__})") from None


def _start(verbose: int | None) -> int:
    return (1 if sys.stdout.isatty() else 2) if verbose is None else verbose


@deterministic
def train(config: TrainConfig, run_dir: Path | None = None, data_dir=None,
          models_dir: Path = DEFAULT_MODELS_DIR, echo: Callable[[str], None] = print,
          verbose: int | None = None) -> TrainResult:
    """Train a new run and leave a complete run folder (`run_dir`, else models/<timestamp>)."""
    verbose = _start(verbose)
    check_latest(models_dir, run_dir)
    missing = _missing_folders(Path(run_dir or models_dir))
    path = create_run_dir(run_dir, models_dir)  # before the data: a bad folder fails at once
    if run_dir is None:
        missing.insert(0, path)  # a new models/<timestamp>
    with RunLock(path):
        if {p.name for p in path.iterdir()} - {".lock"}:  # another run took it meanwhile
            raise RunFolderError(f"{path}: exists and is not an empty folder; choose another "
                                 f"--run-dir")
        try:
            result = _train_new(config, path, data_dir, models_dir, echo, verbose)
        except BaseException:
            _remove_if_unused(path, missing)
            raise
        if not result.epochs_run:  # stopped before the first epoch: nothing to keep
            _remove_if_unused(path, missing)
        return result


def _train_new(config: TrainConfig, path: Path, data_dir, models_dir: Path,
               echo: Callable[[str], None], verbose: int) -> TrainResult:
    tf = _tf.tensorflow()
    source = Source()
    check_unlabelled(config)  # an empty --unlabelled file is named before the teacher runs
    why = config.teacher != "none" and why_no_teacher(config, data_dir)
    if why:  # nothing to teach: plain training, recorded as such
        config = config.replace(teacher="none")
        source.description["teacher"] = {"used": False, "why_none": why}
    vocab, train_part, val_part = prepare(config, data_dir, folder=path, source=source,
                                          teacher=True, echo=echo)
    if why:
        echo(f"No teacher: {why}")
    note = source.description.get("teacher", {})
    if config.teacher != "none" and not note.get("used"):
        if config.unlabelled is not None:  # asked for by name: refused, not quietly dropped
            total, held = note.get("unlabelled_texts", 0), note.get("unlabelled_in_validation", 0)
            raise DataFileError(f"{config.unlabelled}: the teacher can use none of its {total:,} "
                                f"texts ({held:,} are in the validation part, the rest have no "
                                f"word of the vocabulary); give other --unlabelled texts, or "
                                f"leave --unlabelled out")
        # no unlabelled text had a known word: plain training, on the vocabulary built
        config = config.replace(teacher="none", vocab_df_power=config.df_power)
    if len(vocab) < config.vocab_size:
        echo(f"The training texts have only {len(vocab) - 2} distinct words: "
             f"vocabulary size {len(vocab)} instead of {config.vocab_size}")
        config = config.replace(vocab_size=len(vocab))
    run = Run(path, config, vocab)
    run.save_vocab()
    run.save_config(library_versions(), source.description)
    model = build_model(config)  # seeded layer by layer: no global random state is touched
    state = {"epoch": 0, "best_epoch": 0, "best_val_accuracy": None,
             "best_val_loss": None, "wait": 0, "history": [], "completed": False}
    echo(f"Run folder: {run.path}")
    taught = len(train_part[1]) - source.description["train_reviews"]
    also = f" and {taught:,} the teacher labelled" if taught else ""
    echo(f"Training on {source.description['train_reviews']:,} reviews{also}, validating on "
         f"{len(val_part[1]):,} ({source.description.get('validation', 'a validation part')})")
    model.summary(print_fn=lambda line, *a, **k: echo(line))
    return _fit_or_say(run, model, state, train_part, val_part, models_dir, echo, verbose)


def _fit_or_say(run: Run, *args) -> TrainResult:
    """`_fit`, a file that cannot be written (a full disk) said in one line with what is kept:
    the run as of its last finished epoch, to resume, or nothing."""
    try:
        return _fit(run, *args)
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


def _committed(path: Path) -> bool:
    """Whether state.json names a finished epoch's checkpoint (the run can be resumed)."""
    try:
        return bool(json.loads((path / "state.json").read_text("utf-8")).get("checkpoint"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: kept, never deleted on a guess


def _missing_folders(path: Path) -> list[Path]:
    """The folders on the way to `path` (itself included) that do not exist yet, deepest first."""
    missing = []
    while not (path.exists() or path.is_symlink()) and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _remove_if_unused(path: Path, made: list[Path]) -> None:
    """After a failure before the first epoch: leave no run folder that holds no run, and no
    folder made on the way to it (an empty folder the user gave is kept)."""
    names = {p.name for p in path.iterdir()} if path.is_dir() else {"?"}
    ours = {".lock", "config.json", "vocab.txt", TENSORBOARD_DIR, *ALL_FILES}
    if not _committed(path):  # what a failed first epoch wrote (a full disk) is ours too
        ours |= {"model.keras", "weights.npz", "state.json", "history.json", CSV_LOG,
                 "learning_curves.png", *(n for n in names if n.startswith("checkpoint-"))}
    if all(n in ours or n.startswith(".prepare-") or (n.startswith(".") and ".tmp" in n)
           for n in names):
        for name in names:
            if (path / name).is_dir():
                shutil.rmtree(path / name, ignore_errors=True)
            else:
                (path / name).unlink(missing_ok=True)
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break


@deterministic
def resume(run_dir: Path, data_dir=None, models_dir: Path = DEFAULT_MODELS_DIR,
           echo: Callable[[str], None] = print, verbose: int | None = None) -> TrainResult:
    """Continue a stopped run after its last finished epoch, with its saved settings."""
    tf = _tf.tensorflow()
    verbose = _start(verbose)
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
            _finish(run, state, models_dir, echo)
            return TrainResult(run.path, state["epoch"], state["best_epoch"],
                               state["best_val_accuracy"], True)
        model = load_checkpoint(run.path / state["checkpoint"])  # checked before any deleting
        remove_stale_files(run.path, keep=state["checkpoint"])
        try:  # the ids written when the run started: no data is read again
            train_part, val_part = load_prepared(run.path, prepared_sha256(run.config_file))
        except FileNotFoundError as exc:  # missing or changed: the data is the source
            echo(f"The prepared ids cannot be used ({exc}); preparing them again from the data")
            train_part, val_part = prepare_again(run, data_dir, echo)
        echo(f"Resuming {run.path} after epoch {state['epoch']}")
        return _fit_or_say(run, model, state, train_part, val_part, models_dir, echo, verbose)


def _finish(run: Run, state: dict, models_dir: Path, echo: Callable[[str], None]) -> None:
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
                                 lambda tmp: NumpyRNN.save(tmp, weight_arrays(model)))
    except BaseException:
        tmp_model.unlink()
        raise
    new = {run.model_file.name: sha256_file(tmp_model),
           run.weights_file.name: sha256_file(tmp_weights)}
    write_json_atomic(run.state_file, {**committed, "pending": new})
    os.replace(tmp_model, run.model_file)
    os.replace(tmp_weights, run.weights_file)
    return new


def _fit(run: Run, model, state: dict, train_part, val_part, models_dir: Path,
         echo: Callable[[str], None], verbose: int) -> TrainResult:
    """The epoch loop: fit one epoch, keep the best model, commit state.json, stop early.

    With the weight average on, validation and the best model read the average; the
    checkpoint keeps the trained weights and, in the optimizer's state, the average."""
    config = run.config
    (x_train, y_train), (x_val, y_val) = train_part, val_part
    # the teacher's rows follow the labelled ones (prepared.Stacked)
    labelled = len(x_train.parts[0]) if hasattr(x_train, "parts") else len(x_train)
    taught = labelled < len(x_train)
    y_train, y_val = targets(y_train, labelled), targets(y_val)
    compile_model(model, config, teacher=taught, optimizer=getattr(model, "optimizer", None))
    average = WeightAverage(model)
    val_batches = sorted_batches(lengths(x_val), config.batch_size)
    state["settings_sha256"] = run.settings_sha256()  # config.json is final: written once
    committed = copy.deepcopy(state)  # what state.json holds now
    with StopOnSignal() as stopper:
        for epoch in range(state["epoch"], config.epochs):
            # the epoch's batches depend only on (seed, epoch), so a resumed run sees the same
            rng = np.random.default_rng([config.seed, epoch])
            bucket = 32 if config.length_buckets else 1
            train_batches = shuffled_buckets(lengths(x_train), config.batch_size, rng, bucket)
            seed_dropout(model, config.seed, epoch)
            started = time.perf_counter()
            fit = model.fit(batches(x_train, y_train, train_batches),
                            epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                            validation_data=batches(x_val, y_val, val_batches), verbose=verbose,
                            callbacks=[drop_logs("val_teacher_agreement"),
                                       stopper.callback(model), average.callback(),
                                       tensorboard(run), progress_bar(config.epochs, verbose)])
            if stopper.stopped:
                average.swap_back()
                break
            logs = {k: float(v[-1]) for k, v in fit.history.items()}
            logs["seconds"] = round(time.perf_counter() - started, 2)
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
            _save_keras(model, run.path / state["checkpoint"])
            write_json_atomic(run.history_file, state["history"])
            write_csv_log(run.path / CSV_LOG, state["history"])
            stop_early = state["wait"] >= config.patience
            state["completed"] = stop_early or state["epoch"] == config.epochs
            write_json_atomic(run.state_file, state)  # the commit point of the epoch
            committed = copy.deepcopy(state)  # what state.json holds now
            remove_stale_files(run.path, keep=state["checkpoint"])
            if stop_early:
                echo(f"Early stopping: validation accuracy has not improved for "
                     f"{config.patience} epochs")
                break
    if not stopper.stopped and not state["completed"] and state["epoch"] >= config.epochs:
        echo(f"{run.path}: {state['epoch']} epochs are finished and config.json now says at "
             f"most {config.epochs}: the run is complete")
        state["completed"] = True
        write_json_atomic(run.state_file, state)

    if state["history"]:
        plot_learning_curves(state["history"], run.path / "learning_curves.png",
                             state["best_epoch"])
        echo(f"Learning curves: {run.path / 'learning_curves.png'}")
    if stopper.stopped and not state["epoch"]:
        echo(f"Stopped before the first epoch finished; nothing to resume, so {run.path} "
             f"is not kept")
    elif stopper.stopped:
        echo(f"Stopped after {state['epoch']} finished epochs; the unfinished epoch was "
             f"dropped. Resume with: sentiment-rnn train --resume {run.path}")
    elif state["completed"]:
        _finish(run, state, models_dir, echo)
    return TrainResult(run.path, state["epoch"], state["best_epoch"],
                       state["best_val_accuracy"], state["completed"])
