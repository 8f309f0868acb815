"""The command line: a thin Click layer (cloup's: option groups, command sections) over train,
evaluate, predict, inspect, serve and seal, listed in that order.

Each command parses its options, calls the library and prints; `edge.py` turns any error into
one line. Options and their ranges (from config.BOUNDS) are in `options.py`, where input enters.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import cloup

from sentiment_rnn._version import __version__
from sentiment_rnn.cli import edge as guard
from sentiment_rnn.config import TrainConfig, check_sources
from sentiment_rnn.errors import ConfigError, DataFileError
from sentiment_rnn.files.columns import check_label_pair
from sentiment_rnn.cli.edge import DEBUG_ENV, GuardedGroup, one_line
from sentiment_rnn.cli.options import (BACKEND_OPTION, DATA_DIR_OPTION, INPUT_FORMAT_OPTION,
                                       INPUT_PATH, LABEL_OPTIONS, MAX_RECORD_OPTION, MODEL_OPTION,
                                       TEXT_COLUMN_OPTION, png_path, read_once, train_options)
from sentiment_rnn.cli.predict import predict

INSPECT_LIMIT = 1 << 20  # bytes of text `inspect` traces: a row per word, so not 10 MB


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sentiment-rnn")
@click.option("--debug", is_flag=True, help=f"Show the Python traceback of an unexpected "
                                            f"error (or set {DEBUG_ENV}=1).")
def main(debug):
    """Train, evaluate, run and look inside a recurrent network for movie-review sentiment.

    Embedding -> SimpleRNN (or GRU, LSTM) -> Dense(sigmoid) on the IMDB reviews, with a NumPy
    forward and backward pass that reproduce the trained Keras model.
    """


# the commands in the order a person uses them, seal last (it mends a run folder)
COMMANDS = cloup.Section("Commands, in the order of use")


def run() -> None:
    """The `sentiment-rnn` program."""
    guard.run(main)


@main.command(section=COMMANDS)
@train_options
def train(resume_dir, run_dir, data_dir, keep_oov, **settings):
    """Train the RNN and save it in a run folder.

    It learns from the IMDB train split, or --data FILE, or --dataset NAME.
    """
    from sentiment_rnn.prediction.parallel import stopped_by_sigterm
    from sentiment_rnn.training.resume import resume as resume_training
    from sentiment_rnn.training.train import train as run_training

    started = time.perf_counter()
    if resume_dir is not None:
        ctx = click.get_current_context()
        given = [f"--{name.replace('_', '-')}" for name in [*settings, "keep_oov", "run_dir"]
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"--resume continues with the run's saved settings; drop "
                                   f"{', '.join(given)}")
        with stopped_by_sigterm():  # the teacher's workers are ended on the way out
            result = resume_training(resume_dir, data_dir, echo=click.echo)
    else:
        try:
            check_sources(settings["data"], settings["validation_data"], settings["unlabelled"],
                          settings["teacher"])
            read_once([(f"--{k.replace('_', '-')}", settings[k])
                       for k in ("data", "validation_data", "unlabelled")])
            check_label_pair(settings["positive"], settings["negative"])
        except (ConfigError, DataFileError) as exc:
            raise click.UsageError(str(exc)) from None
        config = TrainConfig(drop_oov=not keep_oov, **settings)
        with stopped_by_sigterm():
            result = run_training(config, run_dir, data_dir, echo=click.echo)
    click.echo(f"Training took {time.perf_counter() - started:.1f} s")
    if not result.completed:
        sys.exit(130)


@main.command(section=COMMANDS)
@cloup.option_group("Model", MODEL_OPTION, BACKEND_OPTION)
@cloup.option_group(
    "Data",
    DATA_DIR_OPTION,
    click.option("--data", "data_file", type=INPUT_PATH, default=None,
                 help="Score a labelled file (or - for standard input) instead: CSV or TSV with "
                 "a header naming label and text, headerless TSV label<TAB>text, or JSON Lines "
                 "with label and text keys; labels 0/1, neg/pos or negative/positive. Adds "
                 "accuracy by review length and the share of out-of-vocabulary tokens.  "
                 "[default: the IMDB test split]"),
    INPUT_FORMAT_OPTION,
    click.option("--skip-bad", is_flag=True, help="With --data: count and skip malformed rows "
                 "instead of stopping at the first."),
    MAX_RECORD_OPTION, TEXT_COLUMN_OPTION, *LABEL_OPTIONS,
)
@cloup.option_group(
    "Output",
    click.option("--json", "as_json", is_flag=True,
                 help="Print one JSON object instead of a table."),
    click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
                 default=None, help="Also write metrics.json and confusion-matrix, ROC-curve "
                 "and calibration PNGs into this folder, all or nothing.  [default: no report]"),
    click.option("--baselines", "with_baselines", is_flag=True,
                 help="Also score the majority class, a bag-of-words logistic regression on the "
                      "same vocabulary and a TF-IDF one on all words and pairs, all trained on "
                      "the run's training part of its training data (reads it)."),
)
def evaluate(model_dir, data_dir, backend, as_json, data_file, input_format, skip_bad,
             max_record_mb, report_dir, with_baselines, text_column, label_column, positive,
             negative):
    """Score a trained model on a test split or a labelled file.

    It reads the IMDB test split (25,000 reviews; the test split of the run's --dataset) or
    --data FILE. The columns and label values the run was trained with are used unless given.
    """
    from sentiment_rnn.evaluation.evaluate import run_evaluation
    from sentiment_rnn.evaluation.reports import REPORT_FILES, write_report
    from sentiment_rnn.files.run_folder import resolve_run_dir
    from sentiment_rnn.text.terminal import echo_text

    if (skip_bad or input_format != "auto") and data_file is None:
        raise click.UsageError("--skip-bad and --input-format need --data FILE")
    run_dir = resolve_run_dir(model_dir)
    try:
        check_label_pair(positive, negative)
    except DataFileError as exc:
        raise click.UsageError(str(exc)) from None
    ev = run_evaluation(run_dir, data_file, skip_bad, data_dir, backend, with_baselines,
                        input_format=input_format, limit=max_record_mb << 20,
                        text_column=text_column, label_column=label_column,
                        positive=positive, negative=negative)
    # the results first: a report that cannot be written does not lose them
    if as_json:
        click.echo(json.dumps(ev.to_json(), allow_nan=False))
    else:
        echo_text(f"Model: {run_dir}\n{ev.source}\n\n{ev.format()}")  # names from the data
    if report_dir is not None:
        try:
            write_report(report_dir, ev, run_dir)
        except OSError as exc:
            raise click.ClickException(f"the report could not be written, nothing of it was "
                                       f"kept: {one_line(exc)}") from None
        click.echo(f"\nReport: {report_dir}/ ({', '.join(REPORT_FILES)})",
                   err=as_json)


main.add_command(predict, section=COMMANDS)  # cli/predict.py; third in the list


@main.command("inspect", section=COMMANDS)
@MODEL_OPTION
@DATA_DIR_OPTION
@click.option("--check", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Without TEXT: compare NumPy and Keras on this many validation texts of "
                   "the run's own data: the validation part of its training data, split as "
                   "training split it (0 skips it, and TensorFlow).")
@click.option("--memory", is_flag=True, help="Without TEXT: how far back the model remembers, "
              "over the run's validation reviews: the mean gradient norm and leave-one-out "
              "|dP| by distance from the end, their half-lives, and the neutral-words probe.")
@click.option("--reviews", type=click.IntRange(min=1), default=1000, show_default=True,
              help="With --memory: how many validation reviews to measure on (the first N).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=png_path, help="With TEXT: write running P(positive) above a heatmap "
                                       "of h_t to this PNG file; with --memory: both memory "
                                       "curves on a log axis and the probe.  [default: no plot]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.argument("text", required=False)
def inspect_command(model_dir, data_dir, check, memory, reviews, plot, as_json, text):
    """Look inside the trained RNN through its NumPy forward pass.

    Without TEXT: every weight's shape and norm, the spectral radius of W_hh, a NumPy-vs-Keras
    parity check, and the words the model finds most positive and negative. With TEXT (- reads
    it from standard input): the hidden state h_t and P(positive) after each word. With --memory:
    how strongly the verdict depends on the word k steps before the end, and a probe of how
    long a verdict sentence is kept.
    """
    from sentiment_rnn.inspection import overview as inside_overview
    from sentiment_rnn.inspection import trace as inside
    from sentiment_rnn.files.run_folder import resolve_run_dir
    from sentiment_rnn.text.terminal import echo_text, encoded, not_utf8, printable_trace

    run_dir = resolve_run_dir(model_dir)
    reviews_given = click.get_current_context().get_parameter_source("reviews") == \
        click.core.ParameterSource.COMMANDLINE
    if memory or reviews_given:
        if text is not None or not memory:
            raise click.UsageError("--memory takes no TEXT" if memory else "--reviews needs "
                                   "--memory")
        from sentiment_rnn.cli.memory import inspect_memory

        return inspect_memory(run_dir, data_dir, reviews, plot, as_json)
    if text is None:
        if plot is not None:
            raise click.UsageError("--plot needs a TEXT to trace")
        report = inside_overview.overview(run_dir, check, data_dir)
        echo_text(json.dumps(report, allow_nan=False) if as_json
                  else inside_overview.format_overview(report))
        inside_overview.require_parity(report)
        return
    if text == "-":
        from sentiment_rnn.files.streams import read_whole_text

        text = read_whole_text("-", INSPECT_LIMIT)
    elif not_utf8(text):
        raise click.BadParameter("the text is not valid UTF-8", param_hint="TEXT")
    elif len(text.encode("utf-8", "surrogateescape")) > INSPECT_LIMIT:
        raise click.BadParameter(f"inspect reads at most {INSPECT_LIMIT:,} bytes of text (the "
                                 f"model reads only the last words anyway)", param_hint="TEXT")
    report = inside.trace(run_dir, text)
    if plot is not None:
        from sentiment_rnn.evaluation.plots import plot_trace

        plot_trace(report, plot)
    if as_json:  # data: UTF-8, as it is
        click.echo(json.dumps(report, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    else:  # the words and path made printable; the colours are this table's own
        click.echo(encoded(inside.format_trace(printable_trace(report),
                                               color=sys.stdout.isatty()) + "\n"), nl=False)
        if plot is not None:
            echo_text(f"Plot: {plot}")


@main.command(section=COMMANDS)
@MODEL_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any non-loopback address (0.0.0.0) lets other "
              "machines in, with no authentication (a warning is printed).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 takes a free one.")
@click.option("--metrics", "metrics_path", type=click.Path(exists=True, path_type=Path),
              default=None, help="The metrics.json (or its folder) that `evaluate --report DIR` "
              "wrote for this run, to show its test accuracy; a regular file of at most 1 MB. "
              " [default: shown as not evaluated]")
def serve(model_dir, host, port, metrics_path):
    """Show the model on a web page and behind a JSON API.

    Both run on the NumPy path. The page traces a review as you type; the API takes TensorFlow
    Serving's REST shape at /v1/models/sentiment-rnn:predict and has /api/trace, /api/model and
    /healthz (described at /openapi.json). Ctrl-C stops it.
    """
    from sentiment_rnn.serve.app import serve as run_server

    run_server(model_dir, host, port, metrics_path)


@main.command(section=COMMANDS)
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
def seal(run_dir):
    """Trust a run folder's files as they are now.

    Use it after changing RUN_DIR's files on purpose. It checks that config.json and vocab.txt
    load and agree, and that weights.npz and model.keras load with them, then records the sha256
    of all four in state.json (predict, evaluate, inspect, serve and --resume refuse a file whose
    sha256 differs from state.json's).
    """
    from sentiment_rnn.prediction.sealing import seal as seal_run

    sealed = seal_run(run_dir)
    for name, digest in sorted(sealed.sha256.items()):
        click.echo(f"{name}  sha256 {digest}")
    for note in sealed.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(f"Sealed {sealed.run_dir}: its files are trusted as they are now")
