"""The command line: a thin Click layer over train, evaluate and predict.

Library functions raise plain exceptions (`errors.py`); this module turns them into one-line
`Error: ...` messages with exit code 1. Option ranges are checked here, where input enters.
"""

from __future__ import annotations

import json
import os
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
@click.option("--length-buckets/--random-batches", default=DEFAULTS.length_buckets,
              show_default=True, help="Batch reviews of similar length together (faster; "
                                      "padding is masked, so only the batch mix changes).")
@click.option("--embed-dim", type=click.IntRange(min=1), default=DEFAULTS.embed_dim,
              show_default=True, help="Width of the word embedding x_t.")
@click.option("--units", type=click.IntRange(min=1), default=DEFAULTS.units, show_default=True,
              help="Width of the SimpleRNN hidden state h_t.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=DEFAULTS.dropout,
              show_default=True, help="Dropout on the RNN's inputs x_t, in training only.")
@click.option("--recurrent-dropout", type=click.FloatRange(0, 1, max_open=True),
              default=DEFAULTS.recurrent_dropout, show_default=True,
              help="Dropout on the RNN's state h_{t-1}, in training only.")
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
        ctx = click.get_current_context()
        given = [f"--{name.replace('_', '-')}" for name in [*settings, "keep_oov", "run_dir"]
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"--resume continues with the run's saved settings; drop "
                                   f"{', '.join(given)}")
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
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Score a labelled file instead: CSV or TSV with a header naming "
              "label and text, headerless TSV label<TAB>text, or JSON Lines with label and text "
              "keys; labels 0/1, neg/pos or negative/positive. Adds accuracy by review length "
              "and the share of out-of-vocabulary tokens.  [default: the IMDB test split]")
@click.option("--skip-bad", is_flag=True,
              help="With --data: count and skip malformed rows instead of stopping at the first.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Also write metrics.json and confusion-matrix, ROC-curve and "
                                 "calibration PNGs into this folder.  [default: no report]")
@click.option("--baselines", "with_baselines", is_flag=True,
              help="Also score the majority class and a bag-of-words logistic regression, both "
                   "trained on the run's training part of the IMDB train split (reads it).")
@_friendly
def evaluate(model_dir, data_dir, backend, as_json, data_file, skip_bad, report_dir,
             with_baselines):
    """Score a trained model on the IMDB test split (25,000 reviews) or on a labelled file."""
    from .reports import REPORT_FILES, run_evaluation, write_report
    from .runs import resolve_run_dir

    if skip_bad and data_file is None:
        raise click.UsageError("--skip-bad needs --data FILE")
    run_dir = resolve_run_dir(model_dir)
    ev = run_evaluation(run_dir, data_file, skip_bad, data_dir, backend, with_baselines)
    if report_dir is not None:
        write_report(report_dir, ev, run_dir)
    if as_json:
        click.echo(json.dumps(ev.to_json()))
        return
    click.echo(f"Model: {run_dir}\n{ev.source}\n\n{ev.format()}")
    if report_dir is not None:
        click.echo(f"\nReport: {report_dir}/ ({', '.join(REPORT_FILES)})")


def _read_stdin_lines() -> list[str]:
    from .files import read_text_lines

    return read_text_lines(sys.stdin.buffer)


def _write_chunks(chunks, total_bytes: int) -> None:
    """Write and flush each chunk of output as it comes, with a progress bar (bytes read) on
    standard error when that is a terminal and the output is not."""
    try:
        if sys.stderr.isatty() and not sys.stdout.isatty():
            with click.progressbar(length=total_bytes, label="Predicting", file=sys.stderr) as bar:
                for text, done in chunks:
                    click.echo(text, nl=False)
                    bar.update(done - bar.pos)
        else:
            for text, _ in chunks:
                click.echo(text, nl=False)
    except BrokenPipeError:  # e.g. `| head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


@main.command()
@MODEL_OPTION
@click.option("--backend", type=click.Choice(["numpy", "keras"]), default=None,
              help="Forward pass to use.  [default: numpy if the run has weights.npz, else keras]")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per text (the same as --format jsonl).")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Classify every text in this file, streaming, one output row "
              "per record in order: one text per line, or CSV/TSV with a header naming a text "
              "column, or JSON Lines with a text key.  [default: the TEXTS]")
@click.option("--input-format", type=click.Choice(["auto", "lines", "csv", "tsv", "jsonl"]),
              default="auto", show_default=True, help="How to read --file; auto goes by the "
              "extension (.csv, .tsv, .jsonl), anything else is one text per line.")
@click.option("--format", "out_format", type=click.Choice(["text", "csv", "jsonl"]),
              default="text", show_default=True, help="Output: text (label, probability, first "
              "words), csv (label,probability,text with a header) or jsonl.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="P(positive) from which a text is labelled positive.")
@click.argument("texts", nargs=-1)
@_friendly
def predict(model_dir, backend, as_json, file, input_format, out_format, threshold, texts):
    """Classify each TEXT as positive or negative.

    Give - as the only TEXT to read one review per line from standard input (blank lines are
    skipped). A text with no words at all is an error; a text whose words are all unknown to
    the model gets the model's prior probability, with a note on standard error.

    With --file, a blank line or a text with no words (only punctuation, say) gets the label
    unknown and no probability (- in text, empty in csv, null in jsonl), so a long job never
    stops for one; a malformed record (bad JSON, wrong number of CSV fields) or invalid UTF-8
    stops it with its line number. Results are written 1,000 at a time as they come, in
    constant memory; a progress bar shows on standard error when that is a terminal and the
    output is not.
    """
    from .files import format_rows, predict_file
    from .predict import Predictor
    from .runs import resolve_run_dir

    fmt = "jsonl" if as_json else out_format
    if file is not None and texts:
        raise click.UsageError("give TEXTS or --file FILE, not both")
    if file is None and not texts:
        raise click.UsageError("give TEXTS to classify, - to read standard input, or --file FILE")
    if list(texts) == ["-"]:
        texts = _read_stdin_lines()
    predictor = Predictor(resolve_run_dir(model_dir), backend)
    if file is not None:
        _write_chunks(predict_file(predictor, file, fmt, threshold, input_format),
                      file.stat().st_size)
        return
    probs = predictor.predict(list(texts))
    for i, (text, p) in enumerate(zip(texts, probs), 1):
        if not predictor.known_words(text):
            click.echo(f"Note: text {i} has no word in the model's vocabulary; its probability "
                       f"is the model's prior", err=True)
        click.echo(format_rows([text], [p], fmt, threshold, header=i == 1), nl=False)


def _png_path(ctx, param, value):
    if value is not None and value.suffix.lower() != ".png":
        raise click.BadParameter(f"{value} is not a .png file name")
    return value


@main.command("inspect")
@MODEL_OPTION
@DATA_DIR_OPTION
@click.option("--check", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Without TEXT: compare NumPy and Keras on this many IMDB test reviews "
                   "(0 skips it, and TensorFlow).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=_png_path, help="With TEXT: write running P(positive) above a heatmap "
                                       "of h_t to this PNG file.  [default: no plot]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.argument("text", required=False)
@_friendly
def inspect_command(model_dir, data_dir, check, plot, as_json, text):
    """Look inside the trained RNN through its NumPy forward pass.

    Without TEXT: every weight's shape and norm, the spectral radius of W_hh, a NumPy-vs-Keras
    parity check, and the words the model finds most positive and negative. With TEXT (- reads
    it from standard input): the hidden state h_t and P(positive) after each word.
    """
    from . import inspect as inspecting
    from .runs import resolve_run_dir

    run_dir = resolve_run_dir(model_dir)
    if text is None:
        if plot is not None:
            raise click.UsageError("--plot needs a TEXT to trace")
        report = inspecting.overview(run_dir, check, data_dir)
        click.echo(json.dumps(report) if as_json else inspecting.format_overview(report))
        inspecting.require_parity(report)
        return
    if text == "-":
        text = "\n".join(_read_stdin_lines())
    report = inspecting.trace(run_dir, text)
    if plot is not None:
        from .inspect_plot import plot_trace

        plot_trace(report, plot)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        click.echo(inspecting.format_trace(report, color=sys.stdout.isatty()))
        if plot is not None:
            click.echo(f"Plot: {plot}")
