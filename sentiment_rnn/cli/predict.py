"""The `predict` command: TEXTS or a file in, one row per text out, in order, 1,000 at a time.

Its inputs are checked here (`_texts_or_file`); a file is read and classified as a stream, in
one process or in --jobs processes (`_classify_file`). Registered on the group in commands.py.
"""

from __future__ import annotations

import os
from contextlib import closing

import click
import cloup

from sentiment_rnn.config import MAX_JOBS, usable_cores
from sentiment_rnn.cli.edge import FiniteFloat, WholeLineCommand
from sentiment_rnn.cli.options import (BACKEND_OPTION, INPUT_FORMAT_OPTION, INPUT_PATH,
                                       MAX_RECORD_OPTION, MODEL_OPTION, TEXT_COLUMN_OPTION,
                                       read_once)


@cloup.command(cls=WholeLineCommand)
@cloup.option_group(
    "Model",
    MODEL_OPTION, BACKEND_OPTION,
    click.option("--jobs", type=click.IntRange(1, MAX_JOBS), default=None,
                 help=f"Processes that classify --file (or -), 1,000 texts at a time; the "
                      f"output is the same, in order. The keras backend runs in one.  "
                      f"[default: {usable_cores()}, the cores this process may use]"),
)
@cloup.option_group(
    "Input",
    click.option("--file", "file", type=INPUT_PATH, default=None,
                 help="Classify every record of this file, pipe or - (standard input), "
                 "streaming, one output row per record in order: one text per line, or CSV/TSV "
                 "with a header naming a text column, or JSON Lines with a text key.  "
                 "[default: the TEXTS]"),
    INPUT_FORMAT_OPTION,
    click.option("--skip-bad", is_flag=True,
                 help="Give a malformed record (bad JSON or CSV, too long) the label unknown "
                      "instead of stopping at it; the count goes to standard error."),
    MAX_RECORD_OPTION, TEXT_COLUMN_OPTION,
)
@cloup.option_group(
    "Output",
    click.option("--format", "out_format", type=click.Choice(["text", "csv", "jsonl"]),
                 default="text", show_default=True, help="Output: text (label, probability, "
                 "first words; control characters shown escaped), csv (label,probability,text "
                 "with a header) or jsonl; csv and jsonl keep each text byte for byte, in UTF-8."),
    click.option("--json", "as_json", is_flag=True,
                 help="Print one JSON object per text (the same as --format jsonl)."),
    click.option("--escape-formulas/--keep-formulas", default=True, show_default=True,
                 help="With --format csv: a text that starts with =, +, -, @, a tab or a "
                      "carriage return, which a spreadsheet would run as a formula, gets a ' in "
                      "front (as OWASP recommends); --keep-formulas writes every text as it is."),
    click.option("--threshold", type=FiniteFloat(0, 1), default=0.5, show_default=True,
                 help="P(positive) from which a text is labelled positive."),
)
@click.argument("texts", nargs=-1)
def predict(model_dir, backend, as_json, file, input_format, out_format, escape_formulas,
            threshold, skip_bad, max_record_mb, text_column, jobs, texts):
    """Classify each TEXT as positive or negative.

    Give - as the only TEXT (or --file -) to read one review per line from standard input.
    Every input text gets one output row, in order. A text with no word the model knows (blank,
    only punctuation, only unknown words) gets the label unknown and no probability (- in text,
    empty in csv, null in jsonl); a malformed record (bad JSON, wrong number of CSV fields, over
    --max-record-mb) or invalid UTF-8 stops it with its line number. Results are written 1,000
    at a time as they come, in constant memory.
    """
    from sentiment_rnn.nn.blas import one_blas_thread
    from sentiment_rnn.prediction.predictor import Predictor
    from sentiment_rnn.prediction.rows import classify_stream, write_chunks
    from sentiment_rnn.files.run_folder import resolve_run_dir

    file, texts = _texts_or_file(file, texts, input_format, skip_bad, jobs)
    jobs_given, jobs = jobs is not None, jobs or usable_cores()
    predictor = Predictor(resolve_run_dir(model_dir), backend)
    if predictor.backend == "numpy":
        one_blas_thread()  # --jobs N means N cores (see parallel.py)
    elif jobs > 1:
        # TensorFlow is imported now, and a process that has imported it cannot safely fork
        if jobs_given:
            click.echo(f"Note: the keras backend runs in one process; --jobs {jobs} is not "
                       f"used", err=True)
        jobs = 1
    counts: dict = {}
    rows = {"fmt": "jsonl" if as_json else out_format, "threshold": threshold,
            "counts": counts, "escape_formulas": escape_formulas}
    if file is None:
        write_chunks(classify_stream(predictor, texts, **rows), fmt=rows["fmt"])
    else:
        _classify_file(predictor, file, rows, jobs, input_format, skip_bad, max_record_mb,
                       text_column)
    if counts.get("unknown"):
        click.echo(f"Note: {counts['unknown']:,} of {counts['texts']:,} text(s) have no word in "
                   f"the model's vocabulary: labelled unknown, with no probability", err=True)


def _texts_or_file(file, texts, input_format, skip_bad, jobs) -> tuple:
    """predict's input, checked: TEXTS or --file (- alone reads standard input), the options
    that need a file only with one; returns (file, texts)."""
    from sentiment_rnn.text.terminal import not_utf8, printable

    read_once([("--file", file),
               *[(f"TEXT {i}", t) for i, t in enumerate(texts, 1) if t == "-"]])
    if file is not None and texts:
        raise click.UsageError("give TEXTS or --file FILE, not both")
    if file is None and not texts:
        raise click.UsageError("give TEXTS to classify, - to read standard input, or --file FILE")
    if list(texts) == ["-"]:
        file, texts = "-", ()
    elif (skip_bad or input_format != "auto") and file is None:
        raise click.UsageError("--skip-bad and --input-format need --file FILE or -")
    if jobs is not None and file is None:
        raise click.UsageError("--jobs needs --file FILE or -")
    for i, text in enumerate(texts, 1):
        if not_utf8(text):
            raise click.BadParameter(f"text {i} is not valid UTF-8", param_hint="TEXTS")
        if len(text) < 4096 and "\n" not in text and os.path.isfile(text):
            click.echo(printable(f"Note: text {i} is the name of a file; to classify its "
                                 f"contents, use --file {text}"), err=True)
    return file, texts


def _classify_file(predictor, file, rows: dict, jobs, input_format, skip_bad, max_record_mb,
                   text_column) -> None:
    """Classify every record of `file`, in `jobs` processes, writing the rows as they come."""
    from sentiment_rnn.files.columns import Columns
    from sentiment_rnn.files.readers import Skipped, read_texts
    from sentiment_rnn.files.streams import Source
    from sentiment_rnn.prediction.parallel import classify_parallel, stopped_by_sigterm
    from sentiment_rnn.prediction.rows import classify_stream, refuse_output_into, write_chunks
    from sentiment_rnn.text.terminal import printable

    skipped = Skipped()
    with Source(file, max_record_mb << 20) as source:
        refuse_output_into(source)
        texts = read_texts(source, input_format, skip_bad, skipped, Columns(text=text_column))
        if jobs == 1:
            chunks = classify_stream(predictor, texts, **rows)
        else:
            chunks = classify_parallel(predictor, texts, jobs=jobs, **rows)
        # closed on any exit (a broken pipe, SIGTERM too): workers stop
        with stopped_by_sigterm(), closing(chunks):
            write_chunks(chunks, source, rows["fmt"])
    if skipped.count:
        click.echo(printable(f"Note: {skipped.count:,} malformed record(s) labelled unknown, "
                             f"the first at {skipped.first}"), err=True)
