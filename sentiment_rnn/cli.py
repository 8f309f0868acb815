"""The command line: a thin Click layer over train, evaluate and predict.

Library functions raise plain exceptions (`errors.py`); this module turns them into one-line
`Error: ...` messages with exit code 1. Option ranges are checked here, where input enters.
"""

from __future__ import annotations

import json
import sys
import time
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .config import VOCAB_METHODS, TrainConfig
from .errors import SentimentRNNError

DEFAULTS = TrainConfig()


def _friendly(func):
    """Turn library errors into Click errors: one line, exit code 1, no traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SentimentRNNError as exc:
            raise click.ClickException(str(exc)) from None
        except MemoryError:
            raise click.ClickException("out of memory") from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sentiment-rnn")
def main():
    """Train, evaluate, run and look inside a recurrent network for movie-review sentiment.

    Embedding -> SimpleRNN -> Dense(sigmoid) on the IMDB reviews, with a NumPy forward pass that
    reproduces the trained Keras model.
    """


MODEL_OPTION = click.option(
    "--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Run folder to use.  [default: models/latest]")
DATA_DIR_OPTION = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="tensorflow-datasets folder holding imdb_reviews/.  [default: $TFDS_DATA_DIR, else data/]")


@main.command()
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULTS.epochs, show_default=True,
              help="Most epochs; early stopping on validation accuracy usually ends sooner.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULTS.batch_size,
              show_default=True, help="Reviews per gradient step.")
@click.option("--max-len", type=click.IntRange(min=1), default=DEFAULTS.max_len,
              show_default=True, help="Tokens per review; longer reviews keep their last ones.")
@click.option("--vocab-size", type=click.IntRange(min=3), default=DEFAULTS.vocab_size,
              show_default=True, help="Vocabulary entries, including padding and out-of-vocabulary.")
@click.option("--vocab-method", type=click.Choice(VOCAB_METHODS), default=DEFAULTS.vocab_method,
              show_default=True, help="How the vocabulary's words are chosen from the training part.")
@click.option("--keep-oov/--drop-oov", default=not DEFAULTS.drop_oov, show_default=True,
              help="Keep out-of-vocabulary words as id 1, or drop them from the sequence.")
@click.option("--embed-dim", type=click.IntRange(min=1), default=DEFAULTS.embed_dim,
              show_default=True, help="Width of the word embedding x_t.")
@click.option("--units", type=click.IntRange(min=1), default=DEFAULTS.units, show_default=True,
              help="Width of the SimpleRNN hidden state h_t.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True, max=10),
              default=DEFAULTS.learning_rate, show_default=True, help="Adam learning rate.")
@click.option("--clipnorm", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULTS.clipnorm, show_default=True, help="Gradient clipping by norm.")
@click.option("--patience", type=click.IntRange(min=1), default=DEFAULTS.patience,
              show_default=True, help="Epochs without better validation accuracy before stopping.")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=DEFAULTS.validation_fraction, show_default=True,
              help="Last part of the train split held out for model selection.")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULTS.seed, show_default=True,
              help="Random seed; the same seed gives the same run on the same machine.")
@click.option("--limit", type=click.IntRange(min=2), default=None, show_default=True,
              help="Use only the first N training reviews, for quick tries.")
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for this run.  [default: models/<timestamp>]")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Continue a stopped run after its last finished epoch; "
                                 "its saved settings are used.  [default: start a new run]")
@DATA_DIR_OPTION
@_friendly
def train(resume_dir, run_dir, data_dir, keep_oov, **settings):
    """Train the RNN on the IMDB train split and save a run folder."""
    from .train import train as run_training

    started = time.perf_counter()
    if resume_dir is not None:
        result = run_training(TrainConfig(), resume_dir, data_dir, resume=True, echo=click.echo)
    else:
        config = TrainConfig(drop_oov=not keep_oov, **settings)
        result = run_training(config, run_dir, data_dir, echo=click.echo)
    click.echo(f"Training took {time.perf_counter() - started:.1f} s")
    if not result.completed:
        sys.exit(130)


@main.command()
@MODEL_OPTION
@DATA_DIR_OPTION
@click.option("--backend", type=click.Choice(["numpy", "keras"]), default=None,
              help="Forward pass to use.  [default: numpy if the run has weights.npz, else keras]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@_friendly
def evaluate(model_dir, data_dir, backend, as_json):
    """Score a trained model on the IMDB test split (25,000 reviews)."""
    from .evaluate import evaluate_run, format_table
    from .runs import resolve_run_dir

    run_dir = resolve_run_dir(model_dir)
    result = evaluate_run(run_dir, data_dir, backend)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"Model: {run_dir}\nIMDB test split\n")
        click.echo(format_table(result))


def _read_stdin_lines() -> list[str]:
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise click.ClickException(f"standard input is not valid UTF-8 (line {line}, "
                                   f"byte {exc.start})") from None
    return [line for line in text.splitlines() if line.strip()]


def _preview(text: str, width: int = 60) -> str:
    """The text's first words, on one line, at most `width` characters."""
    words = text.split()
    flat = " ".join(words)
    if len(flat) <= width:
        return flat
    kept = ""
    for word in words:
        if len(kept) + len(word) + 1 > width - 3:
            break
        kept = f"{kept} {word}" if kept else word
    return (kept or flat[: width - 3]) + "..."


@main.command()
@MODEL_OPTION
@click.option("--backend", type=click.Choice(["numpy", "keras"]), default=None,
              help="Forward pass to use.  [default: numpy if the run has weights.npz, else keras]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per text.")
@click.argument("texts", nargs=-1, required=True)
@_friendly
def predict(model_dir, backend, as_json, texts):
    """Classify each TEXT as positive or negative.

    Give - as the only TEXT to read one review per line from standard input (blank lines are
    skipped).
    """
    from .predict import Predictor, label
    from .runs import resolve_run_dir

    if list(texts) == ["-"]:
        texts = _read_stdin_lines()
    predictor = Predictor(resolve_run_dir(model_dir), backend)
    probs = predictor.predict(list(texts))
    for text, p in zip(texts, probs):
        if as_json:
            click.echo(json.dumps({"text": text, "label": label(p), "probability": float(p)},
                                  ensure_ascii=False))
        else:
            click.echo(f"{label(p):<8}  {p:.4f}  {_preview(text)}")
