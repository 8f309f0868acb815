"""predict --file --jobs N: the same output as one process, byte for byte, in input order.

The command runs in a subprocess, as a user runs it: no TensorFlow in the main process, so the
workers are forked (the tests' own process has imported TensorFlow; in it they are spawned,
which `test_chunks_come_back_in_order_whatever_finishes_first` covers).
"""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main
from sentiment_rnn.prediction.rows import classify_stream
from sentiment_rnn.prediction.parallel import classify_parallel
from sentiment_rnn.prediction.predictor import Predictor

from conftest import sigint_as_a_terminal_gives_it

CLI = [sys.executable, "-m", "sentiment_rnn"]
WORDS = ["great", "awful", "fun", "boring", "the", "film", "was", "zyzzyva", "café", "Ünïcode"]
N = 3500  # four chunks of 1,000


def text(i: int) -> str:
    """Texts of varied length, some with no known word (unknown), quotes, commas and tabs
    left out (a tab would be a column in TSV)."""
    if i % 97 == 0:
        return "zyzzyva quux"  # no word in the vocabulary: unknown
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(1 + i % 23)]
    if i % 5 == 0:
        words.insert(1, f'"{i}",')
    return " ".join(words) + f" {i}"


TEXTS = [text(i) for i in range(N)]


def read_back(fmt, texts=TEXTS):
    """The texts as `write_input` wrote them in this format."""
    return [t.replace(" fun ", " fun\n", 1) if fmt == "csv" and i % 11 == 0 else t
            for i, t in enumerate(texts)]


def write_input(path, fmt, texts=TEXTS):
    if fmt == "lines":
        path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    elif fmt == "csv":  # a few records over two lines
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["id", "text"])
            writer.writerows(enumerate(read_back("csv", texts)))
    else:
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


def run(*args, timeout=60, **kwargs):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kwargs)


def predict_both(trained_run, path, *args):
    """The command with --jobs 1 and --jobs 2; both results."""
    return [run("predict", "--model", trained_run, "--file", path, "--jobs", jobs, *args)
            for jobs in (1, 2)]


@pytest.mark.parametrize("input_fmt, out_format", [
    ("lines", "text"), ("csv", "csv"), ("jsonl", "jsonl"), ("lines", "csv")])
def test_two_jobs_write_the_same_bytes_as_one(trained_run, tmp_path, input_fmt, out_format):
    ext = {"lines": "txt", "csv": "csv", "jsonl": "jsonl"}[input_fmt]
    path = write_input(tmp_path / f"texts.{ext}", input_fmt)
    one, two = predict_both(trained_run, path, "--format", out_format)
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr  # the unknown count too
    assert b"have no word in the model's vocabulary" in two.stderr
    out = two.stdout.decode()
    if out_format == "text":
        assert len(out.splitlines()) == N
    elif out_format == "jsonl":  # in input order
        assert [json.loads(row)["text"] for row in out.splitlines()] == read_back(input_fmt)
    else:
        rows = list(csv.reader(io.StringIO(out)))
        assert [r[2] for r in rows[1:]] == read_back(input_fmt)


@pytest.mark.parametrize("bad, error", [
    (b'{"text": "great"\n', "line 3401: not valid JSON (Expecting ',' delimiter at column 17)"),
    (b'{"text": "caf\xe9"}\n', "line 3401: not valid UTF-8 (byte 14 of the line)"),
])
def test_a_malformed_record_in_a_late_chunk_gives_the_same_error(trained_run, tmp_path, bad,
                                                                  error):
    path = write_input(tmp_path / "texts.jsonl", "jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3400] + [bad] + lines[3400:]))
    one, two = predict_both(trained_run, path, "--format", "jsonl")
    assert one.returncode == two.returncode == 1
    assert two.stderr == one.stderr
    assert two.stderr.decode().startswith(f"Error: {path}, {error}")
    assert two.stderr.count(b"\n") == 1
    assert two.stdout == one.stdout  # the three chunks before it, written
    assert len(two.stdout.splitlines()) == 3000


def test_skip_bad_gives_the_same_rows_and_counts(trained_run, tmp_path):
    path = write_input(tmp_path / "texts.jsonl", "jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    for n in (10, 1500, 3200):
        lines[n] = b'{"text": 3}\n' if n == 1500 else b"[1, 2]\n"
    path.write_bytes(b"".join(lines))
    one, two = predict_both(trained_run, path, "--format", "csv", "--skip-bad")
    assert one.returncode == two.returncode == 0
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr
    assert b"Note: 3 malformed record(s) labelled unknown, the first at line 11" in two.stderr


def test_chunks_come_back_in_order_whatever_finishes_first(trained_run):
    """Chunks of very different lengths (a long one finishes last), small chunks, 3 workers;
    in this process TensorFlow is imported, so they are spawned."""
    predictor = Predictor(trained_run)
    texts = [" ".join(["great fun"] * (400 if i % 40 < 5 else 1)) + f" {i}" for i in range(200)]
    texts[77] = None  # a skipped record: an empty text, unknown
    expected = list(classify_stream(predictor, texts, "csv", 0.5, chunk_size=10))
    counts = {}
    got = list(classify_parallel(predictor, iter(texts), "csv", 0.5, jobs=3, chunk_size=10,
                                 counts=counts))
    assert got == expected
    assert counts == {"texts": 199, "unknown": 0}  # the skipped record is neither


def test_short_and_empty_inputs_need_no_workers(trained_run):
    predictor = Predictor(trained_run)
    assert list(classify_parallel(predictor, iter([]), "csv", jobs=2)) == [
        "label,probability,text\n"]
    assert list(classify_parallel(predictor, iter(["great"] * 5), "text", jobs=2,
                                  chunk_size=5)) == list(classify_stream(predictor, ["great"] * 5))


def test_keras_runs_in_one_process_with_a_note(trained_run, tmp_path):
    path = write_input(tmp_path / "texts.txt", "lines", TEXTS[:1200])
    runner = CliRunner()
    args = ["predict", "--model", str(trained_run), "--file", str(path), "--backend", "keras"]
    two = runner.invoke(main, [*args, "--jobs", "2"])
    assert two.exit_code == 0, two.output
    assert two.stderr.startswith("Note: the keras backend runs in one process; --jobs 2 is not "
                                 "used\n")
    one = runner.invoke(main, args)
    assert one.stdout == two.stdout
    assert "--jobs" not in one.stderr  # not asked for: no note


@pytest.mark.parametrize("args, expected", [
    (["--file", "{path}", "--jobs", "0"], "Invalid value for '--jobs': 0 is not in the range "
                                          "1<=x<=64."),
    (["--file", "{path}", "--jobs", "65"], "Invalid value for '--jobs': 65 is not in the range "
                                           "1<=x<=64."),
    (["great", "--jobs", "2"], "--jobs needs --file FILE or -"),
])
def test_jobs_is_checked(tmp_path, args, expected):
    path = write_input(tmp_path / "t.txt", "lines", ["a"])
    result = CliRunner().invoke(main, ["predict", "--model", "unused",
                                       *[a.format(path=path) for a in args]])
    assert result.exit_code == 2
    assert f"Error: {expected}" in result.output


def test_jobs_default_is_shown():
    result = CliRunner().invoke(main, ["predict", "--help"])
    assert "the cores this process may use]" in " ".join(result.output.split())
    assert "1<=x<=64" in result.output


def _group(pgid):
    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout
    return out.split()


def test_ctrl_c_stops_the_workers_without_tracebacks(trained_run):
    """SIGINT to the whole process group, as a terminal sends it, while the workers run and
    the main process waits for more input."""
    proc = subprocess.Popen([*CLI, "predict", "--model", str(trained_run), "--file", "-",
                             "--jobs", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=sigint_as_a_terminal_gives_it)
    try:
        proc.stdin.write("".join(t + "\n" for t in TEXTS[:2500]).encode())
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while len(_group(proc.pid)) < 3 and time.monotonic() < deadline:  # 2 workers started
            time.sleep(0.05)
        assert len(_group(proc.pid)) == 3
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == b"\nAborted.\n"
    deadline = time.monotonic() + 5
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group(proc.pid) == []


def test_a_closed_pipe_ends_quietly_and_stops_the_workers(trained_run, tmp_path):
    path = write_input(tmp_path / "texts.txt", "lines", TEXTS * 3)  # more than a pipe holds
    proc = subprocess.Popen([*CLI, "predict", "--model", str(trained_run), "--file", str(path),
                             "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        assert proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert (proc.returncode, err) == (1, b"")
    deadline = time.monotonic() + 5
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group(proc.pid) == []


def test_output_into_the_input_is_still_refused(trained_run, tmp_path):
    path = write_input(tmp_path / "texts.txt", "lines")
    with open(path, "ab") as out:
        result = subprocess.run([*CLI, "predict", "--model", str(trained_run), "--file",
                                 str(path), "--jobs", "2"], stdout=out, stderr=subprocess.PIPE,
                                timeout=60)
    assert result.returncode == 1
    assert result.stderr.decode() == (f"Error: {path}: standard output is this input file; "
                                      f"write the results to another file\n")
    assert path.read_text(encoding="utf-8") == "".join(t + "\n" for t in TEXTS)
