"""readers.py, output.py and the CLI on users' files: labelled files for evaluate, texts for
predict."""

import hashlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main
from sentiment_rnn.evaluation.metrics import metrics
from sentiment_rnn.prediction.rows import classify_stream
from sentiment_rnn.files.readers import UnlabelledTexts, read_labelled, read_texts
from sentiment_rnn.files.streams import Source
from sentiment_rnn.prediction.predictor import Predictor


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def one_line_error(result, expected):
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {expected}\n"


# Every word is in the tiny model's vocabulary except i, have, seen, really (4 OOV tokens).
ROWS = [
    (1, "A wonderful film, superb and great fun"),  # 7 tokens
    (0, "Boring, awful: the worst plot I have seen"),  # 8 tokens, 3 OOV
    (1, 'great story, "loved" it\nreally'),  # 5 tokens, 1 OOV; a quote and a newline (CSV only)
    (0, "a terrible waste, dull and stupid"),  # 6 tokens
    (1, " ".join(["the film was wonderful and great fun"] * 6)),  # 42 tokens
]
LABEL_SPELLINGS = ["pos", "0", "Positive", "NEG", "1"]


def write_labelled(path, fmt, rows=ROWS, spellings=LABEL_SPELLINGS):
    labels = [s for s, _ in zip(spellings, rows)]
    if fmt == "csv":
        import csv

        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "Text", "label"])
            writer.writerows([i, text, y] for i, ((_, text), y) in enumerate(zip(rows, labels)))
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps({"label": y, "text": text, "stars": 3}) + "\n\n"
                                for (_, text), y in zip(rows, labels)), encoding="utf-8")
    else:
        header = "text\tlabel\n" if fmt == "tsv" else ""
        body = "".join(f"{text.replace(chr(10), ' ')}\t{y}\n" if fmt == "tsv" else
                       f"{y}\t{text.replace(chr(10), ' ')}\n" for (_, text), y in zip(rows, labels))
        path.write_text(header + body, encoding="utf-8")
    return path


FORMATS = {"csv": "reviews.csv", "tsv": "reviews.tsv", "headerless": "reviews.txt",
           "jsonl": "reviews.jsonl"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_all_labelled_formats_read_the_same_rows(tmp_path, fmt):
    found = read_labelled(write_labelled(tmp_path / FORMATS[fmt], fmt))
    assert found.labels.tolist() == [1, 0, 1, 0, 1]
    newline = "\n" if fmt in ("csv", "jsonl") else " "
    assert found.texts == [t.replace("\n", newline) for _, t in ROWS]
    assert found.format == {"headerless": "tsv"}.get(fmt, fmt)
    assert found.skipped == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_evaluate_data_gives_exact_metrics_length_buckets_and_oov(trained_run, tmp_path, fmt):
    path = write_labelled(tmp_path / FORMATS[fmt], fmt)
    result = invoke("evaluate", "--model", trained_run, "--data", path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    texts = [t for _, t in ROWS] if fmt in ("csv", "jsonl") else \
        [t.replace("\n", " ") for _, t in ROWS]
    expected = metrics(np.array([1, 0, 1, 0, 1]), Predictor(trained_run).predict(texts))
    assert {k: out[k] for k in expected} == expected
    assert out["confusion_matrix"] == [[2, 0], [0, 3]]
    assert out["accuracy"] == 1.0
    assert out["by_length"] == [{"tokens": "1-25", "reviews": 4, "accuracy": 1.0},
                                {"tokens": "26-50", "reviews": 1, "accuracy": 1.0}]
    assert out["oov"] == {"tokens": 4, "total": 68, "share": 4 / 68}
    assert out["skipped_rows"] == 0


def test_evaluate_data_table(trained_run, tmp_path):
    path = write_labelled(tmp_path / "r.tsv", "headerless")
    result = invoke("evaluate", "--model", trained_run, "--data", path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [f"Model: {trained_run}", f"Data: {path} (TSV, 5 labelled texts)", ""]
    assert lines[3].split() == ["reviews", "5"]
    assert "\n".join(lines[-6:]) == ("accuracy by review length\n"
                                     "tokens    reviews accuracy\n"
                                     "1-25            4   1.0000\n"
                                     "26-50           1   1.0000\n"
                                     "\n"
                                     "out-of-vocabulary tokens: 5.88% (4 of 68)")


BAD_CSV = ("label,text\n"
           "1,great fun\n"
           "maybe,so so\n"  # line 3: bad label
           "0,awful,extra\n"  # line 4: three fields
           "\n"
           "1,!!!\n"  # line 6: no words
           '0,"boring\nand dull"\n'  # lines 7-8: fine, two lines
           '1,"wonderful"x\n')  # line 9: bad quoting


def test_malformed_rows_stop_with_the_line_number(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    result = invoke("evaluate", "--model", "unused", "--data", path)
    one_line_error(result, f'{path}, line 3: the label "maybe" is not 0/1, neg/pos or '
                           f"negative/positive (--skip-bad skips such rows)")


def test_skip_bad_counts_and_skips_every_malformed_row(trained_run, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    found = read_labelled(path, skip_bad=True)
    assert found.texts == ["great fun", "boring\nand dull"]
    assert (found.skipped, found.first_skipped) == (
        4, 'line 3: the label "maybe" is not 0/1, neg/pos or negative/positive')
    result = invoke("evaluate", "--model", trained_run, "--data", path, "--skip-bad")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        f'Data: {path} (CSV, 2 labelled texts; skipped 4 malformed rows, the first at line 3: '
        f'the label "maybe" is not 0/1, neg/pos or negative/positive)')
    out = json.loads(invoke("evaluate", "--model", trained_run, "--data", path, "--skip-bad",
                            "--json").output)
    assert (out["n"], out["skipped_rows"]) == (2, 4)


@pytest.mark.parametrize("content, line, why", [
    ("label,text\n1,great\n0,awful,extra\n", 3, "3 fields where the header has 2"),
    ("label,text\n1,great\n0,!!!\n", 3, "the text has no words"),
    ('label,text\n1,great\n1,"wonderful"x\n', 3,
     "not valid CSV (',' expected after '\"')"),
    ('{"label": 1, "text": "great"}\n{"label": 0, "text": "awful"\n', 2,
     "not valid JSON (Expecting ',' delimiter at column 29)"),
    ('{"label": 1, "text": "great"}\n\n{"label": 0}\n', 3, 'no "text" key'),
    ('{"label": 1, "text": "great"}\n[0, "awful"]\n', 2, "a JSON list, not an object"),
    ('{"label": 1, "text": "great"}\n{"label": 2, "text": "awful"}\n', 2,
     "the label 2 is not 0/1, neg/pos or negative/positive"),
    ('{"label": 1, "text": 5}\n', 1, "the text is not a string"),
    ("1\tgreat\n0 awful\n", 2, "no tab between the label and the text"),
])
def test_each_kind_of_malformed_row(tmp_path, content, line, why):
    path = tmp_path / ("bad.jsonl" if content.startswith("{") else
                       "bad.tsv" if "\t" in content else "bad.csv")
    path.write_text(content)
    one_line_error(invoke("evaluate", "--model", "unused", "--data", path),
                   f"{path}, line {line}: {why} (--skip-bad skips such rows)")


@pytest.mark.parametrize("name, content, expected", [
    ("a.csv", "id,comment,stars\n1,great,5\n",
     "cannot find a text column (text, review, sentence, content; or name it with "
     "--text-column) and a label column (label, sentiment, polarity, target; or name it with "
     '--label-column); the header has "id", "comment", "stars"'),
    ("a.tsv", "great movie\tpos\n",
     "cannot find a text column (text, review, sentence, content; or name it with "
     "--text-column) and a label column (label, sentiment, polarity, target; or name it with "
     '--label-column); the first line has "great movie", "pos"'),
    ("a.jsonl", '{"review": "great", "stars": 5}\n',
     "cannot find a label key (label, sentiment, polarity, target; or name it with "
     '--label-column); line 1 has "review", "stars"'),
    ("a.txt", "just one review per line\n",
     "cannot tell the format: the first line has no tab or comma and is not JSON "
     "(use .csv, .tsv or .jsonl, or --input-format)"),
    ("empty.dat", "", "the file is empty"),
    ("a.csv", "label,text\n\n", "no labelled texts"),
])
def test_missing_columns_name_what_was_found(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    one_line_error(invoke("evaluate", "--model", "unused", "--data", path), f"{path}: {expected}")


def test_invalid_utf8_and_binary_files_are_one_line_errors(trained_run, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"label,text\n1,great\n0,caf\xe9 awful\n")
    one_line_error(invoke("evaluate", "--model", "unused", "--data", path),
                   f"{path}, line 3: not valid UTF-8 (byte 6 of the line)")
    path = tmp_path / "zip.txt"
    path.write_bytes(b"PK\x03\x04\x00\x00great\n")
    one_line_error(invoke("predict", "--model", trained_run, "--file", path),
                   f"{path}, line 1: a NUL byte; this looks like a binary file, not UTF-8 text")


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbflabel,text\r\n1,great fun\r\n0,awful\r\n")
    found = read_labelled(path)
    assert (found.texts, found.labels.tolist()) == (["great fun", "awful"], [1, 0])


def test_skip_bad_needs_data():
    result = invoke("evaluate", "--model", "unused", "--skip-bad")
    assert result.exit_code == 2
    assert "Error: --skip-bad and --input-format need --data FILE" in result.output


# --- predict --file ----------------------------------------------------------------------------

TEXTS = ["great fun", "", "!!!", "boring, awful", "A wonderful, superb film and a great story "
                                                  "that I loved from start to end, really"]


@pytest.fixture
def probs(trained_run):
    words = [t for t in TEXTS if t.strip("! ")]
    p = dict(zip(words, Predictor(trained_run).predict(words)))
    return [p.get(t) for t in TEXTS]


def write_texts(tmp_path, fmt):
    if fmt == "lines":
        path = tmp_path / "texts.txt"
        path.write_text("\n".join(TEXTS) + "\n")
    elif fmt == "csv":
        path = tmp_path / "texts.csv"
        path.write_text("id,text\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(TEXTS)))
    else:
        path = tmp_path / "texts.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                                for i, t in enumerate(TEXTS)))
    return path


def expected_rows(probs, fmt, threshold=0.5):
    rows = []
    for text, p in zip(TEXTS, probs):
        name = "unknown" if p is None else "positive" if p >= threshold else "negative"
        if fmt == "text":
            if p is None:
                rows.append(f"unknown   -       {text}".rstrip())
            else:
                short = text if len(text) <= 60 else \
                    "A wonderful, superb film and a great story that I loved..."
                rows.append(f"{name:<8}  {p:.4f}  {short}")
        elif fmt == "csv":
            quoted = f'"{text}"' if "," in text else text
            rows.append(f"{name},{'' if p is None else repr(float(p))},{quoted}")
        else:
            rows.append(json.dumps({"text": text, "label": name,
                                    "probability": None if p is None else float(p)}))
    header = ["label,probability,text"] if fmt == "csv" else []
    return "\n".join(header + rows) + "\n"


@pytest.mark.parametrize("input_fmt", ["lines", "csv", "jsonl"])
@pytest.mark.parametrize("output_fmt", ["text", "csv", "jsonl"])
def test_predict_file_in_every_input_and_output_format(trained_run, tmp_path, probs, input_fmt,
                                                       output_fmt):
    path = write_texts(tmp_path, input_fmt)
    result = invoke("predict", "--model", trained_run, "--file", path, "--format", output_fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected_rows(probs, output_fmt)


def test_predict_file_threshold(trained_run, tmp_path, probs):
    path = write_texts(tmp_path, "lines")
    for threshold in (0.0, probs[0], probs[0] + 1e-9, 1.0):
        result = invoke("predict", "--model", trained_run, "--file", path, "--format", "jsonl",
                        "--threshold", threshold)
        assert result.exit_code == 0, result.output
        assert result.stdout == expected_rows(probs, "jsonl", threshold)
    labels = [json.loads(r)["label"] for r in result.stdout.splitlines()]
    assert labels == ["negative", "unknown", "unknown", "negative", "negative"]


def test_predict_threshold_and_format_also_apply_to_texts(trained_run, probs):
    result = invoke("predict", "--model", trained_run, "--threshold", "0", "--format", "csv",
                    "boring, awful")
    assert result.exit_code == 0, result.output
    assert result.stdout == (f'label,probability,text\n'
                             f'positive,{float(probs[3])!r},"boring, awful"\n')


def test_predict_file_streams_in_chunks_as_it_reads(trained_run, tmp_path):
    path = tmp_path / "many.txt"
    lines = [("great fun {}" if i % 3 else "boring awful {}").format(i) for i in range(3000)]
    path.write_text("\n".join(lines) + "\n")
    predictor = Predictor(trained_run)
    with Source(path) as source:
        chunks = classify_stream(predictor, read_texts(source), "jsonl", chunk_size=1000)
        first = next(chunks)
        assert len(first.splitlines()) == 1000
        assert source.bytes < path.stat().st_size  # the rest of the file is not read yet
        rest = list(chunks)
        assert [len(c.splitlines()) for c in rest] == [1000, 1000]
        assert source.bytes == path.stat().st_size
    rows = [json.loads(r) for c in [first] + rest for r in c.splitlines()]
    assert [r["text"] for r in rows] == lines
    assert [r["label"] for r in rows] == ["negative" if i % 3 == 0 else "positive"
                                          for i in range(3000)]
    result = invoke("predict", "--model", trained_run, "--file", path, "--format", "jsonl")
    assert result.stdout.splitlines() == [json.dumps(r) for r in rows]


@pytest.mark.parametrize("args, expected", [
    (["--file", "{path}", "great"], "give TEXTS or --file FILE, not both"),
    ([], "give TEXTS to classify, - to read standard input, or --file FILE"),
])
def test_predict_needs_texts_or_a_file_but_not_both(tmp_path, args, expected):
    path = write_texts(tmp_path, "lines")
    result = invoke("predict", "--model", "unused", *[a.format(path=path) for a in args])
    assert result.exit_code == 2
    assert f"Error: {expected}" in result.output


def test_predict_file_errors_name_the_line(trained_run, tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text("id,comment\n1,great\n")
    one_line_error(invoke("predict", "--model", trained_run, "--file", path),
                   f"{path}: cannot find a text column (text, review, sentence, content; or "
                   f'name it with --text-column); the header has "id", "comment"')
    path = tmp_path / "texts.jsonl"
    path.write_text('{"text": "great"}\n{"text": "awful"\n')
    result = invoke("predict", "--model", trained_run, "--file", path)
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}, line 2: not valid JSON (Expecting ',' delimiter "
                             f"at column 17) (--skip-bad gives such records the label unknown)\n")


def test_input_format_overrides_the_extension(trained_run, tmp_path, probs):
    path = tmp_path / "texts.data"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    result = invoke("predict", "--model", trained_run, "--file", path, "--input-format", "jsonl",
                    "--format", "jsonl")
    assert result.stdout == expected_rows(probs, "jsonl")


def test_unlabelled_texts_leave_out_and_count_bad_records_and_give_the_sha256(tmp_path):
    """The one reader of --unlabelled (the empty-file check and the teacher both use it)."""
    path = tmp_path / "u.jsonl"
    path.write_bytes(b'{"review": "a fine film"}\n{"review": 3}\nnot json\n{"review": "dull"}\n')
    texts = UnlabelledTexts(path, "review")
    assert texts.sha256 == ""  # not read yet
    assert list(texts) == ["a fine film", None, None, "dull"]
    assert texts.skipped.count == 2 and texts.skipped.first == "line 2: the text is not a string"
    assert texts.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
