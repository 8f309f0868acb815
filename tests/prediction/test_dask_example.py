"""examples/score_with_dask.py on a real Dask cluster gives `predict --file`'s rows, byte for byte.

A LocalCluster of 2 worker processes (one thread each, on 127.0.0.1, no dashboard) runs in this
process; the example runs as a user runs it, in a subprocess, given the cluster's address. Its
parts, in order, must hold exactly predict's rows: a dropped, repeated or reordered row, a byte
order mark kept, or another model (b_y moved by 1e-12) fails, as does a part not cut at 1,000
lines. (A batch that differs from predict's chunk moves a probability's last bits on a real
model, not on this tiny one: its 6 units give the same bits in any batch.) The workers, having
unpickled the model, must not have imported TensorFlow. Skipped where dask is not installed,
except in CI or with SENTIMENT_RNN_REQUIRE_DATA set, where that fails.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main

from conftest import REQUIRE_DATA, tiny_corpus

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "score_with_dask.py"
HEADER = "label,probability,text\n"
AWKWARD = {  # line number -> text, some at or next to the 1,000-line cuts
    0: "\ufeffGreat film, the best",  # a byte order mark in front: predict drops it
    # U+2028, NEL and FF end no line for predict (str.splitlines() would split there)
    5: "Ünïcode café 映画 😀 — wonderful\u2028boring \x85 dull\x0c fun",
    999: "   \t ",  # blank: unknown
    1000: "",  # empty: unknown
    1001: "zyzzyva quux blorf",  # no known word: unknown
    1500: " ".join(["awful"] * 30_000) + " great",  # 180 kB, past --blocksize and max_len
    2000: 'He said "great", then =left; it was, "boring"',  # quotes and commas
    2001: "=1+1 awful",  # a formula: predict writes '=1+1 in csv
    2002: "-great fun",
    2500: "dull\rgreat",  # a lone CR ends a line for predict: two rows
}
LINES = 3_200


@pytest.fixture
def dask_cluster():
    """A Client on a LocalCluster of 2 processes, 1 thread each, bound to 127.0.0.1."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        why = f"dask.distributed is not installed ({exc}); pip install -e '.[dask]'"
        if os.environ.get("CI") or REQUIRE_DATA:
            pytest.fail(f"the Dask example's test needs it: {why}")
        pytest.skip(why)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def write_input(path: Path) -> None:
    texts = [text for text, _ in tiny_corpus(LINES)]
    for i, text in AWKWARD.items():
        texts[i] = text
    # CRLF on some lines, and no line end after the last
    path.write_bytes(b"".join(t.encode("utf-8") + (b"\r\n" if i % 7 == 3 else b"\n")
                              for i, t in enumerate(texts))[:-1])


def test_the_dask_example_writes_predicts_rows(dask_cluster, trained_run, tmp_path):
    source, out = tmp_path / "reviews.txt", tmp_path / "scores"
    write_input(source)
    expected = CliRunner().invoke(main, ["predict", "--model", str(trained_run), "--file",
                                         str(source), "--format", "csv"])
    assert expected.exit_code == 0, expected.output
    assert expected.stdout.count("\n") == 1 + LINES + 1  # the header, and the lone CR's row

    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--model", str(trained_run), "--file", str(source),
         "--out", str(out), "--scheduler", dask_cluster.scheduler.address,
         "--rows-per-part", "1000", "--blocksize", "16kB"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr
    parts = sorted(out.iterdir())
    assert [p.name for p in parts] == [f"part-{i:05d}.csv" for i in range(4)]
    texts = [p.read_bytes().decode("utf-8") for p in parts]
    assert all(t.startswith(HEADER) for t in texts)
    assert HEADER + "".join(t[len(HEADER):] for t in texts) == expected.stdout
    assert f"{LINES + 1:,} texts (3 unknown) in 4 part(s)" in done.stderr

    # both workers unpickled the model (the check can fail) without importing TensorFlow
    modules = ("sentiment_rnn.nn.numpy_rnn", "tensorflow", "keras")
    loaded = dask_cluster.run(eval, f"[m for m in {modules} if m in __import__('sys').modules]")
    assert list(loaded.values()) == [["sentiment_rnn.nn.numpy_rnn"]] * 2
