"""The command line's shared options and parameter types, where input enters and is checked.

Every option has help text and a shown default; the ranges of a run's settings are built from
config.BOUNDS (floats must also be finite), so bad values never reach the library.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import click
import cloup

from sentiment_rnn.config import (BOUNDS, CELLS, DEFAULT_EMA, TEACHERS, VOCAB_METHODS,
                                  VOCAB_UNITS, TrainConfig, check_words)
from sentiment_rnn.errors import ConfigError
from sentiment_rnn.cli.edge import FiniteFloat

DEFAULTS = TrainConfig()


def _apply(options):
    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


MODEL_OPTION = click.option(
    "--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Run folder to use.  [default: models/latest]")
def _values(ctx, param, value):
    """--positive 4,5 -> ("4", "5"), by the rule the Python API uses (columns.label_values)."""
    from sentiment_rnn.files.columns import label_values

    try:
        return label_values(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


TEXT_COLUMN_OPTION = click.option(
    "--text-column", default=None, help="Column (or JSON key) holding the text.  [default: the "
    "first of text, review, sentence, content]")
LABEL_OPTIONS = [
    click.option("--label-column", default=None, help="Column (or JSON key) holding the label. "
                 " [default: the first of label, sentiment, polarity, target]"),
    click.option("--positive", callback=_values, default=None, help="Comma-separated label "
                 "values read as positive, such as 4,5 for star ratings; rows with values that "
                 "are neither positive nor negative are counted and left out.  [default: 1, "
                 "pos, positive]"),
    click.option("--negative", callback=_values, default=None, help="Comma-separated label "
                 "values read as negative, such as 1,2.  [default: 0, neg, negative]"),
]

BACKEND_OPTION = click.option(
    "--backend", type=click.Choice(["numpy", "keras"]), default=None,
    help="Forward pass to use.  [default: numpy if the run has weights.npz, else keras]")


DATA_DIR_OPTION = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="tensorflow-datasets folder holding imdb_reviews/.  [default: $TFDS_DATA_DIR, else data/]")


def bounded(field: str) -> click.ParamType:
    """The Click type of a TrainConfig field's range, built from config.BOUNDS."""
    bound = BOUNDS[field]
    kind = click.IntRange if bound.kind is int else FiniteFloat
    return kind(bound.low, bound.high, min_open=bound.low_open, max_open=bound.high_open)


def _setting(flag: str, help_text: str, kind: click.ParamType | None = None):
    """An option for the TrainConfig field of the same name: its range, its default shown."""
    name = flag.lstrip("-").replace("-", "_")
    return click.option(flag, type=kind or bounded(name), default=getattr(DEFAULTS, name),
                        show_default=True, help=help_text)


INPUT_PATH = click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=str)


def _words(ctx, param, value: str | None) -> tuple:
    """--vocab-keep's words: the default list when not given, none for `none` or nothing."""
    if value is None:
        return DEFAULTS.vocab_keep
    words = tuple(w for w in value.replace(",", " ").split())
    words = () if words in ((), ("none",)) else words
    try:
        check_words(words)
    except ConfigError as exc:
        raise click.BadParameter(str(exc).removeprefix("vocab_keep: ")) from None
    return words


def _input_file(flag: str, help_text: str):
    return click.option(flag, type=INPUT_PATH, default=None, help=help_text)


# the options of `train`, each in one group; the settings of a run (TrainConfig) have their
# ranges from config.BOUNDS
train_options = _apply([
    cloup.option_group(
        "Data",
        click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
                     help="A tensorflow-datasets dataset with a text and a 0/1 label to train "
                          "on (its train split; evaluate reads its test split)."),
        DATA_DIR_OPTION,
        _input_file("--data", "Train on a labelled file instead (CSV or TSV with a header, "
                    "headerless TSV label<TAB>text, JSON Lines; - for standard input); its "
                    "validation part is drawn from each label after a seeded shuffle.  "
                    "[default: --dataset]"),
        _input_file("--validation-data", "With --data: a labelled file (or -) for model "
                    "selection instead.  [default: part of --data]"),
        TEXT_COLUMN_OPTION, *LABEL_OPTIONS,
        _setting("--validation-fraction", "Part held out for model selection: the last part "
                 "of a tfds train split, or this share of each label of --data."),
        _setting("--limit", "Use only the first N training reviews (and of a --validation-data "
                 "file, and N unlabelled texts), for quick tries."),
    ),
    cloup.option_group(
        "Text to ids",
        _setting("--vocab-size", "Vocabulary entries, including padding and out-of-vocabulary."),
        _setting("--vocab-method", "How the vocabulary's words are chosen from the training "
                 "part.", click.Choice(VOCAB_METHODS)),
        click.option("--vocab-df-power", type=bounded("vocab_df_power"), default=None,
                     help="label-aware: a word's score is |log-odds of positive vs negative| x "
                          "its document frequency to this power; higher lets more frequent "
                          "words in (not, but).  [default: 0.75 with a teacher, else 0.5]"),
        _setting("--vocab-unit", "label-aware: count each review or each sentence as a "
                 "document when scoring words.", click.Choice(VOCAB_UNITS)),
        click.option("--vocab-keep", default=None, callback=_words, metavar="WORDS",
                     help="Words always in the vocabulary if the training part has them "
                          "(the best-scored of them if they do not all fit), separated by "
                          "commas or spaces; none (or nothing): no such words.  [default: "
                          f"{len(DEFAULTS.vocab_keep)} everyday words: not, never, but, good, "
                          "bad, ... (sentiment_rnn/config.py)]"),
        click.option("--keep-oov/--drop-oov", default=not DEFAULTS.drop_oov, show_default=True,
                     help="Keep out-of-vocabulary words as id 1, or drop them from the "
                          "sequence."),
        _setting("--max-len", "Tokens per review; longer reviews keep their last ones."),
    ),
    cloup.option_group(
        "Model",
        _setting("--cell", "The recurrent layer: simple (SimpleRNN, the seed's), gru (Keras' "
                 "GRU, reset_after) or lstm; each has its NumPy forward and backward pass.",
                 click.Choice(CELLS)),
        _setting("--embed-dim", "Width of the word embedding x_t."),
        _setting("--units", "Width of the recurrent layer's hidden state h_t."),
        _setting("--dropout", "Dropout on the RNN's inputs x_t, in training only."),
        _setting("--recurrent-dropout", "Dropout on the RNN's state h_{t-1}, in training only."),
    ),
    cloup.option_group(
        "Teacher",
        _setting("--teacher", "tfidf-nb: a TF-IDF + logistic regression model, its features "
                 "scaled by naive-Bayes ratios (tfidf: not scaled), fitted on the training "
                 "part, labels unlabelled texts (IMDB's unsupervised split, or --unlabelled "
                 "FILE) and the RNN also learns from its probabilities; none: labelled texts "
                 "only.", click.Choice(TEACHERS)),
        _setting("--teacher-sentences", "Also this many sentences of each unlabelled text "
                 "(its last and others drawn at random), labelled by the teacher on their own, "
                 "so the RNN learns to read a sentence; 0: whole texts only."),
        click.option("--labelled-sentences/--no-labelled-sentences",
                     default=DEFAULTS.labelled_sentences, show_default=True,
                     help="With --teacher-sentences N: the teacher also learns N sentences of "
                          "each training review (with the review's label), and labels them "
                          "for the RNN too."),
        _input_file("--unlabelled", "With --data: unlabelled texts for the teacher to label "
                    "(one a line, or CSV/TSV/JSON Lines with a text column; - for standard "
                    "input).  [default: none, no teacher]"),
    ),
    cloup.option_group(
        "Optimisation",
        _setting("--epochs", "Most epochs; early stopping on validation accuracy usually ends "
                 "sooner."),
        _setting("--batch-size", "Reviews per gradient step."),
        click.option("--length-buckets/--random-batches", default=DEFAULTS.length_buckets,
                     show_default=True, help="Batch reviews of similar length together "
                     "(faster; padding is masked, so only the batch mix changes)."),
        click.option("--jit/--no-jit", "jit_compile", default=DEFAULTS.jit_compile,
                     show_default=True, help="Compile each training step with XLA (faster; "
                     "the same seed gives the same run, but not bit for bit the run that "
                     "--no-jit gives)."),
        _setting("--learning-rate", "Adam learning rate."),
        _setting("--clipnorm", "Gradient clipping by norm."),
        click.option("--ema-momentum", type=bounded("ema_momentum"), default=None,
                     help="Momentum of the moving average of the weights that is validated "
                          f"and saved; 0 is off.  [default: {DEFAULT_EMA} with a teacher, "
                          f"else 0]"),
        _setting("--patience", "Epochs without better validation accuracy before stopping."),
        _setting("--seed", "Random seed; the same seed gives the same run on the same "
                 "machine."),
    ),
    cloup.option_group(
        "Run folder",
        click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=None, help="Folder for this run.  [default: models/<timestamp>]"),
        click.option("--resume", "resume_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=None, help="Continue a stopped run after its last finished "
                     "epoch; its saved settings are used.  [default: start a new run]"),
    ),
])


def _stream(name: str) -> tuple | None:
    """What identifies an input that can be read only once: standard input (-), or a pipe,
    FIFO or device by its inode; None for a regular file, which can be opened twice."""
    try:
        info = os.fstat(0) if name == "-" else os.stat(name)
    except OSError:
        return ("-",) if name == "-" else None
    if name != "-" and stat.S_ISREG(info.st_mode):
        return None
    return ("-",) if name == "-" and stat.S_ISREG(info.st_mode) else (info.st_dev, info.st_ino)


def read_once(inputs: list[tuple[str, str | None]]) -> None:
    """Refuse two (option, path) inputs that are one stream, which the first would use up:
    - twice, - and /dev/stdin on a pipe, one FIFO twice."""
    seen: dict[tuple, str] = {}
    stdin = _stream("-")
    for option, name in inputs:
        key = None if name is None else _stream(str(name))
        if key is None:
            continue
        if key in seen:
            what = ("standard input" if key in (("-",), stdin) else f"{name} is a pipe, which")
            raise click.UsageError(f"{what} can be read only once: {seen[key]} and {option} "
                                   f"both read it")
        seen[key] = option
MAX_RECORD_OPTION = click.option(
    "--max-record-mb", type=click.IntRange(1, 1024), default=10, show_default=True,
    help="Largest record (a line, or a CSV record over several lines) in MB; a longer one is "
         "an error, or skipped with --skip-bad.")
INPUT_FORMAT_OPTION = click.option(
    "--input-format", type=click.Choice(["auto", "lines", "csv", "tsv", "jsonl"]),
    default="auto", show_default=True,
    help="How to read the input; auto goes by the extension (.csv, .tsv, .jsonl), else by the "
         "first line for a labelled file, else one text a line.")


def png_path(ctx, param, value):
    if value is not None and value.suffix.lower() != ".png":
        raise click.BadParameter(f"{value} is not a .png file name")
    return value


