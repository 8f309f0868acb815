"""Training: labelled texts -> vocabulary -> ids (once) -> the epoch loop -> a new run folder.

The validation part of the training data is held out for model selection (early stopping, the
best checkpoint); the IMDB test split is never read here. A run folder is locked while it trains,
so a second process cannot train or resume it at the same time; a run that fails before its first
epoch leaves no folder behind. The epoch loop is in epochs.py, resume in resume.py.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sentiment_rnn import _tf
from sentiment_rnn._version import __version__
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.checks import check_unlabelled
from sentiment_rnn.data.id_store import ALL_FILES
from sentiment_rnn.data.prepare import Source, prepare
from sentiment_rnn.data.distil import why_no_teacher
from sentiment_rnn.errors import DataFileError, RunFolderError
from sentiment_rnn.files.run_dirs import DEFAULT_MODELS_DIR, RunLock, check_latest, create_run_dir
from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.nn.batching import lengths
from sentiment_rnn.nn.callbacks import deterministic
from sentiment_rnn.nn.keras_model import build_model
from sentiment_rnn.training.epochs import TrainResult, fit_or_say, verbosity
from sentiment_rnn.training.logs import CSV_LOG, TENSORBOARD_DIR


def _library_versions() -> dict:
    tf = _tf.tensorflow()
    tfds = _tf.tensorflow_datasets()
    return {"sentiment_rnn": __version__, "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": tf.keras.__version__,
            "tensorflow_datasets": tfds.__version__, "numpy": np.__version__}


@deterministic


def train(config: TrainConfig, run_dir: Path | None = None, data_dir=None,
          models_dir: Path = DEFAULT_MODELS_DIR, echo: Callable[[str], None] = print,
          verbose: int | None = None) -> TrainResult:
    """Train a new run and leave a complete run folder (`run_dir`, else models/<timestamp>)."""
    verbose = verbosity(verbose)
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
    _tf.tensorflow()  # loaded before the data is read: its start-up is not a data error
    source = Source()
    check_unlabelled(config)  # an empty --unlabelled file is named before the teacher runs
    why = config.teacher != "none" and why_no_teacher(config, data_dir)
    if why:  # nothing to teach: plain training, recorded as such
        config = config.replace(teacher="none")
        source.description["teacher"] = {"used": False, "why_none": why}
    started = time.perf_counter()
    vocab, train_part, val_part = prepare(config, data_dir, folder=path, source=source,
                                          teacher=True, echo=echo)
    # what the epochs will read (real ids, padding not counted) and what reading it took
    source.description.update(prepare_seconds=round(time.perf_counter() - started, 1),
                              ids={"train": int(lengths(train_part[0]).sum()),
                                   "validation": int(lengths(val_part[0]).sum())})
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
    run.save_config(_library_versions(), source.description)
    model = build_model(config)  # seeded layer by layer: no global random state is touched
    state = {"epoch": 0, "best_epoch": 0, "best_val_accuracy": None,
             "best_val_loss": None, "wait": 0, "history": [], "completed": False}
    echo(f"Run folder: {run.path}")
    taught = len(train_part[1]) - source.description["train_reviews"]
    note = source.description.get("teacher", {})
    sentences, mine = note.get("unlabelled_sentences", 0), note.get("labelled_sentences", 0)
    also = f" and {taught - sentences - mine:,} texts the teacher labelled" if taught else ""
    also += f" (and {sentences:,} of their sentences)" if sentences else ""
    also += f", and {mine:,} sentences of the training reviews" if mine else ""
    echo(f"Training on {source.description['train_reviews']:,} reviews{also}, validating on "
         f"{len(val_part[1]):,} ({source.description.get('validation', 'a validation part')})")
    model.summary(print_fn=lambda line, *a, **k: echo(line))
    return fit_or_say(run, model, state, train_part, val_part, models_dir, echo, verbose)


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
