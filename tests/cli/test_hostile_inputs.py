"""Hostile input, by class: streams, sizes, encodings, CSV shapes, non-finite numbers.

Every case asserts the exit code, that an error is one `Error: ...` line with no traceback, and
that the run folder is byte-identical afterwards. Cases that need real file descriptors (pipes,
FIFOs, closed standard input, /dev/full) run the command in a subprocess.
"""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main
from sentiment_rnn.prediction.predictor import Predictor

CLI = [sys.executable, "-m", "sentiment_rnn"]
TSV = "".join(f"{i % 2}\t{'great fun' if i % 2 else 'boring awful'} number {i}\n"
              for i in range(1000))  # 1,000 labelled rows, about 24 KB: more than a pipe buffer


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def run(*args, stdin=subprocess.DEVNULL, timeout=60, **kwargs):
    return subprocess.run([*CLI, *map(str, args)], stdin=stdin, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                          **kwargs)


def one_line(output: str, code: int, got: int, start: str = "Error: ") -> None:
    assert got == code, output
    assert "Traceback" not in output
    assert output.startswith(start) and output.count("\n") == 1, output


@pytest.fixture
def guarded(run_copy):
    """A run folder that must be byte-identical after the test."""
    before = snapshot(run_copy)
    yield run_copy
    assert snapshot(run_copy) == before


# --- streams ------------------------------------------------------------------------------------

def test_a_pipe_is_read_once_whole_including_format_detection(guarded, tmp_path):
    data = tmp_path / "reviews.tsv"
    data.write_text(TSV)
    out = subprocess.run(["bash", "-c", f'"$@" --data <(cat {data})', "_", *CLI, "evaluate",
                          "--model", str(guarded), "--json"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n"] == 1000


def test_a_fifo_without_extension_is_sniffed_on_the_same_stream(guarded, tmp_path):
    fifo = tmp_path / "reviews"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(TSV))
    writer.start()
    out = run("evaluate", "--model", guarded, "--data", fifo, "--json", timeout=60)
    writer.join()
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n"] == 1000


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_standard_input_as_a_file(guarded, name):
    out = run("predict", "--model", guarded, "--file", name, "--format", "jsonl",
              stdin=None, input="great fun\n\n!!!\nboring awful\n")
    assert out.returncode == 0, out.stderr
    assert [json.loads(r)["label"] for r in out.stdout.splitlines()] == [
        "positive", "unknown", "unknown", "negative"]


def test_a_bom_does_not_fool_format_detection(guarded, tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"label": 1, "text": "great fun"}\n'
                     b'{"label": 0, "text": "boring, awful"}\n')
    result = invoke("evaluate", "--model", guarded, "--data", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 2


def test_closed_standard_input(guarded):
    out = subprocess.run(["bash", "-c", '"$@" <&-', "_", *CLI, "predict", "--model",
                          str(guarded), "-"], capture_output=True, text=True, timeout=60)
    one_line(out.stderr, 1, out.returncode, "Error: standard input")


def test_dev_zero_stops_at_once_in_flat_memory(guarded):
    out = subprocess.run(["bash", "-c", 'ulimit -v 4000000; "$@"', "_", *CLI, "predict",
                          "--model", str(guarded), "--file", "/dev/zero"],
                         capture_output=True, text=True, timeout=60)
    one_line(out.stderr, 1, out.returncode,
             "Error: /dev/zero, line 1: a NUL byte; this looks like a binary file")


def test_output_into_the_input_file_is_refused_like_cat(guarded, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("great fun\n" * 3000)
    with open(path, "a") as out_file:
        out = subprocess.run([*CLI, "predict", "--model", str(guarded), "--file", str(path)],
                             stdout=out_file, stderr=subprocess.PIPE, text=True, timeout=60)
    one_line(out.stderr, 1, out.returncode, f"Error: {path}: standard output is this input")
    assert path.read_text() == "great fun\n" * 3000


def test_a_full_disk_on_standard_output(guarded):
    with open("/dev/full", "w") as full:
        out = subprocess.run([*CLI, "predict", "--model", str(guarded), "great fun"],
                             stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    one_line(out.stderr, 1, out.returncode, "Error: ")
    assert "No space left on device" in out.stderr


def test_a_closed_pipe_downstream_ends_quietly(guarded, tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("great fun\n" * 20000)
    out = subprocess.run(["bash", "-c", '"$@" | head -1', "_", *CLI, "predict", "--model",
                          str(guarded), "--file", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.startswith("positive") and out.stdout.count("\n") == 1
    assert out.stderr == ""


# --- sizes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["txt", "csv", "jsonl"])
def test_a_record_over_the_cap_is_an_error_or_an_unknown_row(guarded, tmp_path, fmt):
    big = "great " * 200_000  # 1.2 MB
    lines = {"txt": ["fun", big, "awful"],
             "csv": ["text", "fun", f'"{big}"', "awful"],
             "jsonl": [json.dumps({"text": t}) for t in ("fun", big, "awful")]}[fmt]
    path = tmp_path / f"texts.{fmt}"
    path.write_text("\n".join(lines) + "\n")
    line = 3 if fmt == "csv" else 2
    result = invoke("predict", "--model", guarded, "--file", path, "--max-record-mb", 1)
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}, line {line}: longer than 1,048,576 bytes "
                             f"(--skip-bad gives such records the label unknown)\n")
    result = invoke("predict", "--model", guarded, "--file", path, "--max-record-mb", 1,
                    "--skip-bad", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(r) for r in result.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["positive", "unknown", "negative"]
    assert f"1 malformed record(s) labelled unknown, the first at line {line}" in result.stderr


def test_a_long_real_review_in_csv_is_read_whole(guarded, tmp_path):
    review = ("A great film, " + "with a story that goes on and on " * 6000)[:183_000]
    path = tmp_path / "long.csv"
    path.write_text(f'label,text\n1,"{review}"\n0,"boring, awful"\n')
    result = invoke("evaluate", "--model", guarded, "--data", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 2


# --- encodings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ("great fun\n".encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
    (b"great\nfun\ncaf\xe9 awful\n", "line 3: not valid UTF-8 (byte 4 of the line)"),
    (b"great\nfun\x00awful\n", "line 2: a NUL byte; this looks like a binary file, not UTF-8 text"),
    (b"great\n\xed\xa0\x80 lone surrogate\n", "line 2: not valid UTF-8 (byte 1 of the line)"),
])
def test_encodings_that_are_not_utf8(guarded, tmp_path, content, message):
    path = tmp_path / "texts.txt"
    path.write_bytes(content)
    result = invoke("predict", "--model", guarded, "--file", path)
    sep = ": " if message.startswith("the file") else ", "
    assert result.exit_code == 1
    assert result.output == f"Error: {path}{sep}{message}\n"


def test_crlf_and_cr_line_ends(guarded, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_bytes(b"great fun\r\nboring awful\r\n")
    result = invoke("predict", "--model", guarded, "--file", path, "--format", "jsonl")
    assert [json.loads(r)["text"] for r in result.stdout.splitlines()] == ["great fun",
                                                                           "boring awful"]


# --- CSV shapes ---------------------------------------------------------------------------------

def test_one_column_csv_keeps_every_record_in_line(guarded, tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text('text\ngreat fun\n""\n"   "\n\nboring awful\n')
    result = invoke("predict", "--model", guarded, "--file", path, "--format", "jsonl")
    rows = [json.loads(r) for r in result.stdout.splitlines()]
    assert [(r["text"], r["label"]) for r in rows] == [
        ("great fun", "positive"), ("", "unknown"), ("   ", "unknown"),
        ("boring awful", "negative")]  # an empty line is no record; "" and "   " are


def test_skip_bad_never_resumes_inside_a_quoted_field(guarded, tmp_path):
    from sentiment_rnn.files.readers import read_labelled

    path = tmp_path / "bad.csv"
    path.write_text('label,text\n1,great fun\n0,"a quoted "x" field\n1,great\n0,"boring\n'
                    '1,invented row inside a quote"\n0,awful\n')
    found = read_labelled(path, skip_bad=True)
    # line 3's quoted field closes on line 3 and then goes on: one malformed record, alone.
    # Line 5 opens a field that line 6 closes: one record whose text holds line 6, as the csv
    # module reads it; line 6 is never taken for a row of its own
    assert found.texts == ["great fun", "great", "boring\n1,invented row inside a quote",
                           "awful"]
    assert found.labels.tolist() == [1, 1, 0, 0]
    assert (found.skipped, found.first_skipped) == (1, "line 3: not valid CSV (',' expected "
                                                       "after '\"')")


def test_a_quote_inside_an_unquoted_field_is_a_plain_character(guarded, tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text('text\nhe is 5" tall and great\nawful\ngreat\n')
    result = invoke("predict", "--model", guarded, "--file", path, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(r)["text"] for r in result.stdout.splitlines()] == [
        'he is 5" tall and great', "awful", "great"]


def test_an_unclosed_quote_at_the_end_is_one_bad_record(guarded, tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text('text\ngreat fun\n"never closed\nboring awful\n')
    result = invoke("predict", "--model", guarded, "--file", path)
    assert result.output == (f"Error: {path}, line 3: a quoted field is never closed "
                             f"(--skip-bad gives such records the label unknown)\n")


@pytest.mark.parametrize("line", ['{"text": ' * 100_000 + '"x"' + "}" * 100_000,
                                  '{"text": "great", "n": ' + "9" * 5000 + "}"])
def test_jsonl_that_python_cannot_hold(guarded, tmp_path, line):
    path = tmp_path / "texts.jsonl"
    path.write_text('{"text": "great"}\n' + line + "\n")
    result = invoke("predict", "--model", guarded, "--file", path)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}, line 2: not usable JSON (")
    assert result.output.count("\n") == 1


# --- non-finite numbers -------------------------------------------------------------------------

@pytest.mark.parametrize("command, option", [
    ("predict", "--threshold"), ("train", "--learning-rate"), ("train", "--dropout"),
    ("train", "--validation-fraction"), ("train", "--clipnorm"),
    ("train", "--recurrent-dropout")])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_float_options_refuse_nan_and_infinity(tmp_path, monkeypatch, command, option, value):
    monkeypatch.chdir(tmp_path)
    result = invoke(command, option, value, "great")
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert list(tmp_path.iterdir()) == []


def _plant_weights(run, **changes):
    """Replace arrays of weights.npz and record the new sha256, so that the loader itself is
    what refuses them."""
    from sentiment_rnn.files.atomic import sha256_file

    with np.load(run / "weights.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(changes)
    np.savez(run / "weights.npz", **arrays)
    state = json.loads((run / "state.json").read_text())
    state["sha256"]["weights.npz"] = sha256_file(run / "weights.npz")
    (run / "state.json").write_text(json.dumps(state))


@pytest.mark.parametrize("name, value, why", [
    ("W_hh", np.full((6, 6), np.nan), "weight W_hh holds NaN or infinity"),
    ("b_y", np.array([np.inf]), "weight b_y holds NaN or infinity"),
    ("W_hh", np.ones((6, 6), dtype=np.int64), "weight W_hh holds int64, not floating-point"),
    ("b_h", np.ones(6, dtype=np.complex128), "weight b_h holds complex128, not floating-point"),
])
@pytest.mark.parametrize("args", [["predict", "great"], ["inspect", "great"],
                                  ["inspect", "--json", "--check", "0"],
                                  ["evaluate", "--data", "{data}"]])
def test_weights_that_are_not_finite_floats_are_refused(run_copy, tmp_path, name, value, why,
                                                        args):
    _plant_weights(run_copy, **{name: value})
    data = tmp_path / "d.tsv"
    data.write_text("1\tgreat\n0\tawful\n")
    before = snapshot(run_copy)
    result = invoke(args[0], "--model", run_copy, *[a.format(data=data) for a in args[1:]])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {run_copy}: weights.npz is unusable ({why}")
    assert result.output.count("\n") == 1
    assert snapshot(run_copy) == before


def test_inspect_json_of_a_text_without_known_words_is_valid_json(guarded):
    result = invoke("inspect", "--model", guarded, "--json", "zzz qqq")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["label"], report["probability"]) == ("unknown", None)
    text = invoke("inspect", "--model", guarded, "!!!")
    assert "No word of the text is in the vocabulary: unknown, no probability" in text.stdout


def test_predict_gives_nan_never_a_number_for_texts_without_known_words(guarded):
    probs = Predictor(guarded).predict(["great", "zzz", "", "awful"])
    assert np.isnan(probs).tolist() == [False, True, True, False]


def test_a_text_that_names_a_file_gets_a_note(guarded, tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("great fun\n")
    result = invoke("predict", "--model", guarded, str(path))
    assert result.exit_code == 0
    assert f"Note: text 1 is the name of a file; to classify its contents, use --file {path}" \
        in result.stderr


# --- more classes from a hostile round ------------------------------------------------------------

@pytest.mark.parametrize("content, texts", [
    (b"great\nfun\rawful\r\nbad\n", ["great", "fun", "awful", "bad"]),  # mixed line ends
    (b"great\rfun\rawful", ["great", "fun", "awful"]),  # CR alone (old Mac)
])
def test_every_kind_of_line_end(guarded, tmp_path, content, texts):
    path = tmp_path / "texts.txt"
    path.write_bytes(content)
    result = invoke("predict", "--model", guarded, "--file", path, "--format", "jsonl")
    assert [json.loads(r)["text"] for r in result.stdout.splitlines()] == texts


def test_the_record_cap_is_exact_in_bytes(guarded, tmp_path):
    mb = 1 << 20
    path = tmp_path / "texts.txt"
    path.write_text("a" * mb + "\n" + "é" * (mb // 2) + "x\n")  # 1 MiB exactly; 1 MiB + 1 byte
    result = invoke("predict", "--model", guarded, "--file", path, "--max-record-mb", 1,
                    "--skip-bad", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(r)["text"][:1] for r in result.stdout.splitlines()] == ["a", ""]
    assert "1 malformed record(s) labelled unknown, the first at line 2: longer than " \
        "1,048,576 bytes" in result.stderr


def test_a_lone_surrogate_in_json_is_a_malformed_record(guarded, tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text('{"text": "great"}\n{"text": "great \\ud800 movie"}\n{"text": "awful"}\n')
    result = invoke("predict", "--model", guarded, "--file", path)
    assert result.output == (f"Error: {path}, line 2: the text holds '\\ud800', a lone "
                             f"surrogate, not Unicode text (--skip-bad gives such records the "
                             f"label unknown)\n")
    result = invoke("predict", "--model", guarded, "--file", path, "--skip-bad", "--format",
                    "csv")
    assert [r.split(",")[0] for r in result.stdout.splitlines()] == [
        "label", "positive", "unknown", "negative"]


def test_format_detection_looks_ahead_one_line_only(guarded, tmp_path):
    path = tmp_path / "data.txt"
    path.write_text(" " * 4_000_000 + "\n" + "1\tgreat\n" * 3)
    out = subprocess.run(["bash", "-c", 'ulimit -v 3000000; "$@"', "_", *CLI, "evaluate",
                          "--model", str(guarded), "--data", str(path)],
                         capture_output=True, text=True, timeout=60)
    one_line(out.stderr, 1, out.returncode, f"Error: {path}: cannot tell the format")


def test_huge_finite_weights_are_refused_before_they_overflow(run_copy):
    with np.load(run_copy / "weights.npz") as npz:
        w_hh = npz["W_hh"] * 1e30  # float32: large, finite, and enough to overflow a step
    _plant_weights(run_copy, W_hh=w_hh)
    for args in (["predict", "great"], ["inspect", "great"], ["inspect", "--json", "great"]):
        result = invoke(args[0], "--model", run_copy, *args[1:])
        assert result.exit_code == 1
        assert result.output == (f"Error: {run_copy}: weights.npz is unusable (weight W_hh "
                                 f"holds values beyond ±1e+06, which no trained model has)\n")


def test_a_giant_extra_array_in_weights_npz_is_never_decompressed(run_copy, monkeypatch):
    """An extra member whose .npy header declares 3.2 GB (400 million float64): predict reads
    the weights and never opens it, so never allocates or decompresses what it declares."""
    import zipfile

    with zipfile.ZipFile(run_copy / "weights.npz", "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("extra.npy", "w", force_zip64=True) as f:
            header = {"descr": "<f8", "fortran_order": False, "shape": (400_000_000,)}
            np.lib.format.write_array_header_1_0(f, header)
            f.write(bytes(1 << 20))  # its first MB: reading it would fail (EOF), not only cost
    _plant_weights_hash_only(run_copy)
    opened, real_open = [], zipfile.ZipFile.open

    def recording_open(self, name, *args, **kwargs):  # every way to read a member goes here
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    result = invoke("predict", "--model", run_copy, "great")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("positive")
    assert "embedding.npy" in opened  # the weights were read through it: the record is real
    assert "extra.npy" not in opened


def _plant_weights_hash_only(run):
    from sentiment_rnn.files.atomic import sha256_file

    state = json.loads((run / "state.json").read_text())
    state["sha256"]["weights.npz"] = sha256_file(run / "weights.npz")
    (run / "state.json").write_text(json.dumps(state))


def test_an_unknown_text_is_unknown_in_inspect_on_a_keep_oov_run(tiny_data_dir, tmp_path,
                                                                  monkeypatch):
    from conftest import TINY_TRAIN_ARGS

    monkeypatch.chdir(tmp_path)  # nothing of the test touches the real models/
    run = tmp_path / "oov-run"
    result = invoke("train", *TINY_TRAIN_ARGS, "--epochs", "1", "--keep-oov", "--run-dir", run,
                    "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    report = json.loads(invoke("inspect", "--model", run, "--json", "zzz qqq").stdout)
    assert (report["label"], report["probability"]) == ("unknown", None)
    assert [r["status"] for r in report["tokens"]] == ["read", "read"]  # read as <oov>, id 1


def test_a_report_is_never_written_into_a_run_folder(guarded, tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text("1\tgreat\n0\tawful\n")
    result = invoke("evaluate", "--model", guarded, "--data", data, "--report", guarded)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {guarded}: is a run folder; write the report into "
                             f"another folder\n")
