"""Processes and messages: no worker outlives `predict --jobs N`; one clear line for an input
read twice and for a JSON document that is not JSON Lines; a malformed record counted once.

The process tests run the command in a subprocess, as a user does (no TensorFlow in it, so the
workers are forked), and wait for each condition with a deadline instead of sleeping.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main

CLI = [sys.executable, "-m", "sentiment_rnn"]


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def one_line_error(result, expected, code):
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output == f"Error: {expected}\n"


# ---- no worker outlives the main process ------------------------------------------------------

def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its new parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def started_with_workers(trained_run):
    """predict --jobs 2 reading standard input, past its first chunks (so its two workers run),
    waiting for more input."""
    proc = subprocess.Popen([*CLI, "predict", "--model", str(trained_run), "--file", "-",
                             "--jobs", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    proc.stdin.write(b"".join(b"great fun %d\n" % i for i in range(2500)))
    proc.stdin.flush()
    assert wait_for(lambda: len(children(proc.pid)) == 2, 30), children(proc.pid)
    return proc, children(proc.pid)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_no_worker_outlives_the_main_process(trained_run, how):
    proc, workers = started_with_workers(trained_run)
    try:
        assert all(alive(w) for w in workers)
        proc.send_signal(how)
        proc.wait(timeout=30)
        assert wait_for(lambda: not any(alive(w) for w in workers), 5), \
            [w for w in workers if alive(w)]
    finally:
        proc.kill()
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
    if how == signal.SIGTERM:  # stopped cleanly: its own exit code, no traceback
        assert proc.returncode == 128 + signal.SIGTERM
        assert proc.stderr.read() == b""
    else:
        assert proc.returncode == -signal.SIGKILL


def test_a_worker_whose_parent_is_already_gone_ends_at_once():
    """The race: the parent died before the worker asked to die with it."""
    code = ("import os; from sentiment_rnn.prediction.parallel import die_with_parent; "
            "die_with_parent(os.getppid() + 1); print('still here')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (1, b"", b"")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_worker_asks_the_kernel_to_kill_it_with_its_parent():
    code = ("import ctypes, os; from sentiment_rnn.prediction.parallel import die_with_parent; "
            "die_with_parent(os.getppid()); v = ctypes.c_int(); "
            "ctypes.CDLL(None).prctl(2, ctypes.byref(v), 0, 0, 0); print(v.value)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert result.stdout.decode().strip() == str(int(signal.SIGKILL))


# ---- standard input, or one pipe, given for two inputs ----------------------------------------

STDIN_ONCE = "standard input can be read only once: {} and {} both read it"


@pytest.mark.parametrize("args, first, second", [
    (["predict", "--file", "-", "-"], "--file", "TEXT 1"),
    (["predict", "-", "-"], "TEXT 1", "TEXT 2"),
    (["predict", "great", "-", "fun", "-"], "TEXT 2", "TEXT 4"),
    (["train", "--data", "-", "--validation-data", "-"], "--data", "--validation-data"),
    (["train", "--data", "-", "--unlabelled", "-"], "--data", "--unlabelled"),
    (["train", "--data", "-", "--validation-data", "-", "--unlabelled", "-"], "--data",
     "--validation-data"),
])
def test_standard_input_given_twice_is_one_line(tmp_path, monkeypatch, args, first, second):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, "--model" if args[0] == "predict" else "--run-dir", tmp_path / "r",
                    input="great\n")
    one_line_error(result, STDIN_ONCE.format(first, second) +
                   f" (see 'main {args[0]} --help')", 2)
    assert not (tmp_path / "models").exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize("args", [
    ["predict", "--model", "unused", "--file", "/dev/stdin", "-"],
    ["train", "--data", "-", "--unlabelled", "/dev/stdin"],
    ["train", "--data", "/dev/stdin", "--validation-data", "-"],
])
def test_dev_stdin_on_a_pipe_is_standard_input_too(tmp_path, args):
    result = subprocess.run([*CLI, *args], input=b"text,label\ngreat,1\n", cwd=tmp_path,
                            capture_output=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.decode().startswith("Error: standard input can be read only once: ")
    assert result.stderr.count(b"\n") == 1


def test_one_fifo_given_twice_is_one_line(tmp_path):
    """Refused before it is opened (opening a FIFO waits for a writer: in a subprocess, so
    that a regression fails on the timeout instead of hanging the tests)."""
    fifo = tmp_path / "texts.fifo"
    os.mkfifo(fifo)
    result = subprocess.run([*CLI, "train", "--data", fifo, "--unlabelled", fifo],
                            cwd=tmp_path, capture_output=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"Error: {fifo} is a pipe, which can be read only once: --data and --unlabelled both "
        f"read it (see 'sentiment-rnn train --help')\n")


# ---- a JSON document that is not JSON Lines ---------------------------------------------------

ARRAYS = ['["great fun", "awful"]\n', '[{"text": "great fun", "label": 1}]\n',
          '[\n  {"text": "great fun", "label": 1},\n  {"text": "awful", "label": 0}\n]\n',
          '\n\n  [ {"text": "great", "label": 1} ]']
OBJECTS = ['{\n  "text": "great fun",\n  "label": 1\n}\n',
           '{"text": "great fun",\n "label": 1}\n', '{"items": [\n{"text": "a"}]}\n']


def _expected(path, doc):
    if doc.strip().startswith("["):
        return f"{path}: holds one JSON array; use JSON Lines, one object per line (jq -c '.[]' " \
               f"writes them)"
    return f"{path}: holds one JSON object over several lines; use JSON Lines, one object per " \
           f"line (jq -c '.' writes them)"


@pytest.mark.parametrize("doc", ARRAYS + OBJECTS)
@pytest.mark.parametrize("command", [["predict", "--file"], ["predict", "--skip-bad", "--file"],
                                     ["evaluate", "--data"], ["evaluate", "--skip-bad", "--data"]])
def test_a_json_document_is_named_in_one_line(trained_run, tmp_path, doc, command):
    path = tmp_path / "reviews.json"
    path.write_text(doc)
    result = invoke(command[0], "--model", trained_run, *command[1:], path)
    one_line_error(result, _expected(path, doc), 1)


@pytest.mark.parametrize("name", ["reviews.json", "reviews.jsonl", "reviews"])
def test_an_array_is_named_whatever_the_file_is_called(trained_run, tmp_path, name):
    path = tmp_path / name
    path.write_text(ARRAYS[1])
    result = invoke("evaluate", "--model", trained_run, "--data", path)
    one_line_error(result, _expected(path, ARRAYS[1]), 1)


def test_train_names_a_json_array_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "train.json"
    path.write_text(ARRAYS[2])
    result = invoke("train", "--data", path, "--run-dir", tmp_path / "r")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert result.output.endswith(f"Error: {_expected(path, ARRAYS[2])}\n")
    assert not (tmp_path / "r").exists()


def test_one_object_on_one_line_in_a_json_file_is_read(trained_run, tmp_path):
    path = tmp_path / "one.json"
    path.write_text('{"text": "great fun"}\n')
    result = invoke("predict", "--model", trained_run, "--file", path, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"] == "great fun"


def test_a_malformed_first_line_is_still_that_records_error(trained_run, tmp_path):
    """A first line that is one broken object (not an opening of several lines) keeps its
    line's own message, and --skip-bad skips it."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "great"\n{"text": "fun"}\n')
    result = invoke("predict", "--model", trained_run, "--file", path)
    one_line_error(result, f"{path}, line 1: not valid JSON (Expecting ',' delimiter at column "
                           f"17) (--skip-bad gives such records the label unknown)", 1)
    skipped = invoke("predict", "--model", trained_run, "--file", path, "--skip-bad")
    assert skipped.exit_code == 0
    assert [r.split()[0] for r in skipped.stdout.splitlines()] == ["unknown", "positive"]


# ---- a malformed record is counted once -------------------------------------------------------

@pytest.mark.parametrize("malformed, wordless", [(1, 0), (2, 3), (3, 1), (0, 2)])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_skip_bad_counts_a_malformed_record_once(trained_run, tmp_path, malformed, wordless,
                                                 jobs):
    lines = ['{"text": "great fun"}', '{"text": "awful"}']
    lines += ['{"text": 3}', '[1, 2]', '{"text": "x"'][:malformed]
    lines += [json.dumps({"text": t}) for t in ["zyzzyva", "!!!", "", "quux"][:wordless]]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines[:2] + lines[2:][::-1]) + "\n")
    result = subprocess.run([*CLI, "predict", "--model", str(trained_run), "--file", str(path),
                             "--skip-bad", "--jobs", jobs], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.decode().splitlines()
    assert sum(r.startswith("unknown") for r in rows) == malformed + wordless
    notes = result.stderr.decode().splitlines()
    texts = 2 + wordless
    assert [n.split(",")[0] if n.startswith("Note: %d malformed" % malformed) else n
            for n in notes] == (["Note: %d malformed record(s) labelled unknown" % malformed]
                                if malformed else []) + (
        [f"Note: {wordless} of {texts} text(s) have no word in the model's vocabulary: "
         f"labelled unknown, with no probability"] if wordless else [])


def test_evaluate_counts_malformed_rows_and_unknown_texts_apart(trained_run, tmp_path):
    rows = [{"text": "great fun", "label": 1}, {"text": "awful", "label": 0},
            {"text": "zyzzyva", "label": 1}, {"text": "quux", "label": 0},
            {"text": 3, "label": 1}, {"text": "great", "label": "maybe"}, {"label": 1}]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = invoke("evaluate", "--model", trained_run, "--data", path, "--skip-bad", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["n"], out["skipped_rows"], out["unknown_texts"]) == (4, 3, 2)


# ---- a full standard output is named ----------------------------------------------------------

FULL = "/dev/full"


@pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", ["predict", "predict --format csv", "predict --jobs 2",
                                     "evaluate --json", "evaluate", "--help"])
def test_a_full_standard_output_is_named_in_one_line(trained_run, tmp_path, command):
    texts = tmp_path / "t.txt"  # 3 chunks, so that --jobs 2 starts its workers
    texts.write_text("great fun\nawful mess\n" * 1500)
    data = tmp_path / "d.csv"
    data.write_text("text,label\ngreat fun,1\nawful mess,0\n")
    args = {"predict": ["predict", "--model", str(trained_run), "--file", str(texts)],
            "evaluate": ["evaluate", "--model", str(trained_run), "--data", str(data)],
            "--help": ["--help"]}[command.split()[0]] + command.split()[1:]
    with open(FULL, "wb") as full:
        result = subprocess.run([*CLI, *args], stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines()[-1] == \
        "Error: standard output: No space left on device"
    assert result.stderr.count(b"Error") == 1 and b"Traceback" not in result.stderr
