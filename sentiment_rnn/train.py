"""Training: IMDB train split -> vocabulary -> ids (once, cached in memory) -> Keras fit -> run folder.

The last `validation_fraction` of the train split is held out for model selection (early stopping,
best checkpoint); the test split is never read here. After every finished epoch the run folder
gets an atomic checkpoint, so `--resume` continues exactly where a killed run stopped.
"""

from __future__ import annotations

import platform
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, quiet
from .batching import lengths, shuffled_buckets, sorted_batches, trim
from .config import TrainConfig
from .data import load_split
from .errors import RunFolderError
from .model import build_model, compile_model, weight_arrays
from .numpy_rnn import NumpyRNN
from .reports import write_learning_curves
from .runs import (DEFAULT_MODELS_DIR, Run, load_run, new_run_dir, remove_stale_files,
                   set_latest, sha256_file, write_atomic, write_json_atomic)
from .text import Vocabulary, encode_tokens, tokenize


@dataclass
class TrainResult:
    run_dir: Path
    epochs_run: int  # epochs finished, in total over every resume
    best_epoch: int  # 1-based
    best_val_accuracy: float
    completed: bool  # False when stopped by Ctrl-C; --resume continues it


def split_train_validation(n: int, fraction: float) -> int:
    """Index where validation starts: the last `fraction` of the train split."""
    n_val = int(round(n * fraction))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(f"{n} training reviews cannot be split into training and validation "
                         f"parts with validation_fraction {fraction}")
    return n - n_val


def prepare(config: TrainConfig, data_dir, vocab: Vocabulary | None = None):
    """Load and tokenize the train split once; return the vocabulary and id arrays."""
    texts, labels = load_split("train", data_dir, limit=config.limit)
    cut = split_train_validation(len(texts), config.validation_fraction)
    tokens = [tokenize(t) for t in texts]
    if vocab is None:
        vocab = Vocabulary.build(tokens[:cut], labels[:cut], config.vocab_size,
                                 config.vocab_method)
    # (reviews, max_len), made once: every epoch reads these ids
    x = encode_tokens(tokens, vocab, config.max_len, config.drop_oov, length=config.max_len)
    return vocab, (x[:cut], labels[:cut]), (x[cut:], labels[cut:])


def library_versions() -> dict:
    tf = quiet.tensorflow()
    tfds = quiet.tensorflow_datasets()
    return {"sentiment_rnn": __version__, "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": tf.keras.__version__,
            "tensorflow_datasets": tfds.__version__, "numpy": np.__version__}


def _save_keras(model, path: Path) -> None:
    write_atomic(path, lambda tmp: model.save(tmp))


def load_checkpoint(path: Path):
    """The model after the last finished epoch, with its optimizer state (safe_mode on)."""
    tf = quiet.tensorflow()
    try:
        return tf.keras.models.load_model(path, safe_mode=True)
    except Exception as exc:
        raise RunFolderError(f"{path.parent}: {path.name} cannot be loaded "
                             f"({type(exc).__name__})") from None


class _StopOnSignal:
    """Ctrl-C: finish the current step, then stop; the unfinished epoch is not kept."""

    def __init__(self):
        self.stopped = False
        self._old = None

    def __enter__(self):
        self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._old)

    def _handle(self, signum, frame):
        if self.stopped:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.stopped = True

    def callback(self, model):
        tf = quiet.tensorflow()
        outer = self

        class Stop(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if outer.stopped:
                    model.stop_training = True

        return Stop()


def _batches(x: np.ndarray, y: np.ndarray, batches: list[np.ndarray]):
    """A tf.data input serving the given row batches, each trimmed to its longest review.

    The signature says (batch, time) with both unknown, so batches of any length are fine."""
    tf = quiet.tensorflow()
    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.int32))
    dataset = tf.data.Dataset.from_generator(
        lambda: ((trim(x[rows]), y[rows]) for rows in batches), output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))


def _progress_bar(total_epochs: int, verbose: int):
    """Keras' own progress bar, told the run's epoch total (fit is called once per epoch)."""
    tf = quiet.tensorflow()

    class Progbar(tf.keras.callbacks.ProgbarLogger):
        def set_params(self, params):
            super().set_params({**params, "epochs": total_epochs, "verbose": verbose})

    return Progbar()


def train(config: TrainConfig, run_dir: Path | None = None, data_dir=None,
          resume: bool = False, models_dir: Path = DEFAULT_MODELS_DIR,
          echo: Callable[[str], None] = print, verbose: int | None = None) -> TrainResult:
    """Train (or, with resume=True, continue) a run and leave a complete run folder."""
    tf = quiet.tensorflow()
    tf.config.experimental.enable_op_determinism()
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2

    if resume:
        run = load_run(run_dir)
        config = run.config
        state = run.state()
        if not state.get("checkpoint"):
            raise RunFolderError(f"{run.path}: no finished epoch to resume from; start a new "
                                 f"run instead (the folder holds only its settings)")
        if state.get("completed"):
            raise RunFolderError(f"{run.path}: this run already finished; nothing to resume")
        remove_stale_files(run.path, keep=state["checkpoint"])
        vocab, (x_train, y_train), (x_val, y_val) = prepare(config, data_dir, run.vocab)
        model = load_checkpoint(run.path / state["checkpoint"])
        echo(f"Resuming {run.path} after epoch {state['epoch']}")
    else:
        run_dir = Path(run_dir) if run_dir else None
        if run_dir is not None and run_dir.exists() and any(run_dir.iterdir()):
            raise RunFolderError(f"{run_dir}: folder exists and is not empty; choose another "
                                 f"--run-dir, or continue it with --resume {run_dir}")
        vocab, (x_train, y_train), (x_val, y_val) = prepare(config, data_dir)
        if len(vocab) < config.vocab_size:
            echo(f"The training texts have only {len(vocab) - 2} distinct words: "
                 f"vocabulary size {len(vocab)} instead of {config.vocab_size}")
            config = config.replace(vocab_size=len(vocab))
        run = Run(run_dir or new_run_dir(models_dir), config, vocab)
        run.path.mkdir(parents=True, exist_ok=True)
        run.save_vocab()
        run.save_config(library_versions())
        tf.keras.utils.set_random_seed(config.seed)
        model = build_model(config)
        compile_model(model, config)
        state = {"epoch": 0, "best_epoch": 0, "best_val_accuracy": None,
                 "best_val_loss": None, "wait": 0,
                 "history": [], "completed": False}
        echo(f"Run folder: {run.path}")
        echo(f"Training on {len(y_train):,} reviews, validating on {len(y_val):,} "
             f"(last {config.validation_fraction:.0%} of the train split)")
        model.summary(print_fn=lambda line, *a, **k: echo(line))

    val_batches = sorted_batches(lengths(x_val), config.batch_size)
    with _StopOnSignal() as stopper:
        for epoch in range(state["epoch"], config.epochs):
            # the epoch's batches depend only on (seed, epoch), so a resumed run sees the same
            rng = np.random.default_rng([config.seed, epoch])
            bucket = 32 if config.length_buckets else 1
            train_batches = shuffled_buckets(lengths(x_train), config.batch_size, rng, bucket)
            started = time.perf_counter()
            fit = model.fit(_batches(x_train, y_train, train_batches),
                            epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                            validation_data=_batches(x_val, y_val, val_batches), verbose=verbose,
                            callbacks=[stopper.callback(model),
                                       _progress_bar(config.epochs, verbose)])
            if stopper.stopped:
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
                _save_keras(model, run.model_file)
                write_atomic(run.weights_file,
                             lambda tmp: NumpyRNN.save(tmp, weight_arrays(model)))
                state["sha256"] = {f.name: sha256_file(f)
                                   for f in (run.model_file, run.weights_file)}
            else:
                state["wait"] += 1
            # a new name each epoch: until state.json names it, the old checkpoint stays valid
            state["checkpoint"] = f"checkpoint-{epoch + 1:03d}.keras"
            _save_keras(model, run.path / state["checkpoint"])
            write_json_atomic(run.history_file, state["history"])
            stop_early = state["wait"] >= config.patience
            state["completed"] = stop_early or state["epoch"] == config.epochs
            write_json_atomic(run.state_file, state)  # the commit point of the epoch
            remove_stale_files(run.path, keep=state["checkpoint"])
            if stop_early:
                echo(f"Early stopping: validation accuracy has not improved for "
                     f"{config.patience} epochs")
                break

    write_learning_curves(state["history"], run.path / "learning_curves.png", echo)
    if stopper.stopped and not state["epoch"]:
        echo(f"Stopped before the first epoch finished; nothing to resume in {run.path}")
    elif stopper.stopped:
        echo(f"Stopped after {state['epoch']} finished epochs; the unfinished epoch was "
             f"dropped. Resume with: sentiment-rnn train --resume {run.path}")
    elif state["completed"]:
        set_latest(run.path, models_dir)
        echo(f"Best epoch {state['best_epoch']}: validation accuracy "
             f"{state['best_val_accuracy']:.4f}. Saved to {run.path}")
    return TrainResult(run.path, state["epoch"], state["best_epoch"],
                       state["best_val_accuracy"], state["completed"])
