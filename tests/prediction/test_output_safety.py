"""Files a user gets back are the data, and safe to open; text for people is safe to show.

CSV and JSON Lines keep every text byte for byte (escape sequences, controls, byte order marks,
lone CRs, non-BMP characters); a CSV text a spreadsheet would run as a formula gets a ' in
front unless --keep-formulas; the text format, inspect, evaluate and error lines show the data's
control characters escaped; an output encoding that cannot hold a text escapes it, never fails.
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main
from sentiment_rnn.prediction.parallel import classify_parallel
from sentiment_rnn.prediction.predictor import Predictor

CLI = [sys.executable, "-m", "sentiment_rnn"]

# texts that Click's ANSI filter, a careless encoder or a line splitter would change
EXACT = [
    "\x1b[31mred\x1b[0m great",  # an ANSI colour
    "bell \x07 and \x1b]0;PWNED\x07 title great",  # an OSC title sequence
    "C1 \x85 next line, \x9b31m CSI, \x90 DCS great",  # C1 controls
    "\ufeffBOM first great", "BOM \ufeff inside great",
    "lone\rCR great", "CRLF\r\ninside great", "LF\ninside great",
    "😀 non-BMP 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 great", "\u202eRLO great\u202c", "DEL \x7f great",
    "trailing spaces and tab great \t ", '"quoted", with comma great', "\x01\x02\x1f",
]
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def jsonl_file(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="ascii")
    return path


def unsafe(text: str, keep: str = "\n") -> list[str]:
    """The characters of `text` that act on a terminal (by their Unicode category)."""
    return [ch for ch in text if ch not in keep and (
        unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in BIDI)]


# ---- CSV and JSON Lines keep the data byte for byte ------------------------------------------

@pytest.mark.parametrize("how", ["arguments", "file"])
def test_csv_keeps_every_text_byte_for_byte(trained_run, tmp_path, how):
    source = ["--", *EXACT] if how == "arguments" else [
        "--file", jsonl_file(tmp_path / "t.jsonl", EXACT)]
    result = invoke("predict", "--model", trained_run, "--format", "csv", *source)
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout_bytes)
    assert rows[0] == ["label", "probability", "text"]
    assert [r[2] for r in rows[1:]] == EXACT


@pytest.mark.parametrize("how", ["arguments", "file"])
def test_jsonl_keeps_every_text_byte_for_byte(trained_run, tmp_path, how):
    source = ["--", *EXACT] if how == "arguments" else [
        "--file", jsonl_file(tmp_path / "t.jsonl", EXACT)]
    result = invoke("predict", "--model", trained_run, "--format", "jsonl", *source)
    assert result.exit_code == 0, result.output
    lines = result.stdout_bytes.decode("utf-8").split("\n")
    assert lines[-1] == ""
    assert [json.loads(line)["text"] for line in lines[:-1]] == EXACT


def test_a_csv_input_comes_back_the_same(trained_run, tmp_path):
    """A CSV file's quoted fields (a lone CR inside one) come out as they went in."""
    texts = ["a\rb great", "x\x1b[1my awful", "\ufeff\u202ez fun"]
    path = tmp_path / "t.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(
            [["text"], *[[t] for t in texts]])
    result = invoke("predict", "--model", trained_run, "--format", "csv", "--file", path)
    assert result.exit_code == 0, result.output
    assert [r[2] for r in csv_rows(result.stdout_bytes)[1:]] == texts


# ---- formulas ---------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x.example\",\"great\")", "+1+cmd|' /C calc'!A0 great",
            "-2+3 great", "@SUM(A1:A2) great", "\t=1 great", "\r=1 great", "=", "-"]
PLAIN = ["a=1 great", "1-2 great", "great -", " =1 great", "'=1 great", "great"]


def test_formulas_get_a_quote_in_front_and_quotes_around(trained_run):
    result = invoke("predict", "--model", trained_run, "--format", "csv", "--", *FORMULAS,
                    *PLAIN)
    assert result.exit_code == 0, result.output
    rows = csv_rows(result.stdout_bytes)
    assert [r[2] for r in rows[1:]] == ["'" + t for t in FORMULAS] + PLAIN
    lines = result.stdout_bytes.decode("utf-8").split("\n")
    assert lines[1].endswith(',"\'=HYPERLINK(""http://x.example"",""great"")"')
    assert lines[3].endswith(',"\'-2+3 great"')  # quoted though it needs no quotes


def test_our_own_cells_are_never_changed(trained_run):
    """The header, the labels and the probabilities (numbers we write) stay as they are."""
    result = invoke("predict", "--model", trained_run, "--format", "csv", "--threshold", "0",
                    "--", *FORMULAS, *PLAIN, "zyzzyva")
    rows = csv_rows(result.stdout_bytes)
    assert rows[0] == ["label", "probability", "text"]
    assert {r[0] for r in rows[1:]} == {"positive", "unknown"}
    for label, prob, _ in rows[1:]:
        assert (prob == "") == (label == "unknown")
        assert prob == "" or 0 <= float(prob) <= 1


def test_keep_formulas_writes_the_raw_text(trained_run):
    result = invoke("predict", "--model", trained_run, "--format", "csv", "--keep-formulas",
                    "--", *FORMULAS, *PLAIN)
    assert result.exit_code == 0, result.output
    assert [r[2] for r in csv_rows(result.stdout_bytes)[1:]] == FORMULAS + PLAIN


def test_jsonl_and_text_are_not_csv_and_keep_the_sign(trained_run):
    result = invoke("predict", "--model", trained_run, "--format", "jsonl", "--", "=1 great")
    assert json.loads(result.stdout)["text"] == "=1 great"


@pytest.mark.parametrize("escape", [True, False])
def test_the_workers_follow_the_switch(trained_run, escape):
    texts = [f"={i} great" if i % 3 == 0 else f"{i} great" for i in range(30)]
    rows = "".join(classify_parallel(Predictor(trained_run), iter(texts), "csv", jobs=2,
                                     chunk_size=7, escape_formulas=escape))
    got = [r[2] for r in csv_rows(rows.encode())[1:]]
    assert got == [("'" if escape and t.startswith("=") else "") + t for t in texts]


def test_the_switch_and_its_default_are_documented():
    result = invoke("predict", "--help")
    flat = " ".join(re.sub(r"-\n\s+", "-", result.output).split())  # a word wrapped at its -
    assert "--escape-formulas / --keep-formulas" in flat
    assert "[default: escape-formulas]" in flat
    assert "OWASP" in flat


# ---- text for people: no control character from the data -------------------------------------

HOSTILE = ["\x1b]0;PWNED\x07 great", "\x1b[2J\x1b[H great", "\x9b31m C1 great",
           "\u202egreat reversed", "\u2066isolate\u2069 great", "bell\x07 great",
           "\x08\x08backspace great", "del\x7f great", "\u2028line\u2029para great",
           "\u200fRLM \u061cALM great", "\x1b[31m"]


def test_the_text_format_shows_controls_escaped(trained_run):
    result = invoke("predict", "--model", trained_run, "--", *HOSTILE)
    assert result.exit_code == 0, result.output
    out = result.stdout_bytes.decode("utf-8")
    assert unsafe(out) == []
    assert len(out.splitlines()) == len(HOSTILE)  # one row each
    assert "\\x1b]0;PWNED\\x07 great" in out
    assert "\\u202egreat reversed" in out
    assert "\\x9b31m C1 great" in out


def test_ordinary_text_is_shown_as_it_is(trained_run):
    texts = ["café great", "日本語 great", "😀 👨‍👩‍👧 great", "ünïcödé awful"]
    result = invoke("predict", "--model", trained_run, "--", *texts)
    lines = result.stdout_bytes.decode("utf-8").splitlines()
    assert [line.split("  ")[-1].strip() for line in lines] == texts


def _hostile_run(trained_run, tmp_path):
    """The run in a folder whose name holds an OSC sequence and a bidi override."""
    path = tmp_path / "run\x1b]0;PWNED\x07\u202e"
    shutil.copytree(trained_run, path)
    return path


def test_inspect_shows_controls_escaped(trained_run, tmp_path):
    run = _hostile_run(trained_run, tmp_path)
    result = invoke("inspect", "--model", run, "\x1b]0;PWNED\x07 great \u202efun")
    assert result.exit_code == 0, result.output
    out = result.stdout_bytes.decode("utf-8")
    assert unsafe(out) == []
    assert "run\\x1b]0;PWNED\\x07\\u202e" in out


def test_evaluate_shows_controls_escaped(trained_run, tmp_path):
    """A label value from the data and the run's folder name, both shown in the summary."""
    run = _hostile_run(trained_run, tmp_path)
    data = tmp_path / "d.jsonl"
    rows = [("great fun", "5"), ("awful boring", "1"), ("fun", "\x1b]0;X\x07"),
            ("great", "\u202e5")]
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows))
    result = invoke("evaluate", "--model", run, "--data", data, "--positive", "5",
                    "--negative", "1")
    assert result.exit_code == 0, result.output
    out = result.stdout_bytes.decode("utf-8")
    assert unsafe(out) == []
    assert "\\x1b]0;x\\x07: 1" in out  # label values are compared in lower case


@pytest.mark.parametrize("args, shown", [
    (["predict", "--model", "no\x1b]0;PWNED\x07run", "great"], "no\\x1b]0;PWNED\\x07run"),
    (["predict", "--file", "{tmp}/\u202eno\x9bfile", "--model", "x"], "\\u202eno\\x9bfile"),
    (["predict", "--file", "{csv}", "--model", "{run}"], "\\u001b[2Jcolumn"),
])
def test_error_lines_show_controls_escaped(trained_run, tmp_path, args, shown):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,\x1b[2Jcolumn\n1,great\n", encoding="utf-8")
    args = [a.format(tmp=tmp_path, csv=bad, run=trained_run) for a in args]
    result = invoke(*args)
    assert result.exit_code in (1, 2)
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert shown in result.output
    assert unsafe(result.output) == []


def test_a_text_that_is_not_utf8_is_refused_in_one_line(trained_run):
    """An argument with invalid UTF-8 reaches Python as a lone surrogate."""
    for command in (["predict", "--format", "jsonl"], ["inspect"]):
        result = invoke(*command, "--model", trained_run, "great \udcff")
        assert result.exit_code == 2
        assert isinstance(result.exception, SystemExit)
        assert re.fullmatch(r"Error: Invalid value for (TEXTS|TEXT): (text 1|the text) is not "
                            r"valid UTF-8 \(see 'main (predict|inspect) --help'\)\n",
                            result.output), result.output


# ---- an output encoding that cannot hold a text ----------------------------------------------

TEXT = "日本語 great café 😀"


def run_with(env_extra, *args, input=None):
    env = {**os.environ, **env_extra}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, timeout=60, env=env,
                          input=input)


@pytest.mark.parametrize("encoding", ["latin-1", "ascii", "cp1252"])
def test_text_output_escapes_what_the_encoding_cannot_hold(trained_run, encoding):
    result = run_with({"PYTHONIOENCODING": encoding}, "predict", "--model", trained_run, TEXT)
    assert (result.returncode, result.stderr) == (0, b"")
    out = result.stdout.decode(encoding)
    assert "\\u65e5\\u672c\\u8a9e great" in out or "日本語 great" in out  # click: ascii = utf-8
    assert "great" in out and out.startswith("positive")


@pytest.mark.parametrize("encoding", ["latin-1", "ascii", "cp1252"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl_are_utf8_whatever_the_encoding(trained_run, tmp_path, encoding, fmt):
    path = jsonl_file(tmp_path / "t.jsonl", [TEXT, "\x1b[1m=1"])
    result = run_with({"PYTHONIOENCODING": encoding}, "predict", "--model", trained_run,
                      "--format", fmt, "--keep-formulas", "--file", path)
    assert (result.returncode, result.stderr.count(b"Error")) == (0, 0), result.stderr
    if fmt == "csv":
        assert [r[2] for r in csv_rows(result.stdout)[1:]] == [TEXT, "\x1b[1m=1"]
    else:
        assert [json.loads(x)["text"] for x in result.stdout.splitlines()] == [TEXT, "\x1b[1m=1"]


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "latin-1"}, {"PYTHONIOENCODING": "ascii"},
                                 {"LANG": "C", "LC_ALL": "C"}])
def test_inspect_and_evaluate_never_fail_on_the_encoding(trained_run, tmp_path, env):
    data = tmp_path / "données-日本.jsonl"
    data.write_text(json.dumps({"text": TEXT, "label": 1}) + "\n"
                    + json.dumps({"text": "awful", "label": 0}) + "\n", encoding="utf-8")
    for args in (["inspect", "--model", trained_run, TEXT],
                 ["inspect", "--model", trained_run, "--json", TEXT],
                 ["evaluate", "--model", trained_run, "--data", data]):
        result = run_with(env, *args)
        assert (result.returncode, result.stderr) == (0, b""), (args, result.stderr)
    assert b"Data: " in result.stdout and b"2 labelled texts" in result.stdout
    inspected = run_with(env, "inspect", "--model", trained_run, "--json", TEXT)
    assert json.loads(inspected.stdout.decode("utf-8"))["text"] == TEXT
