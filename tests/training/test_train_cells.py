"""train --cell gru|lstm: the same recipe (teacher, weight average, dropout), resumed bit-equal
after a kill, and read back on the NumPy path."""

import json
import signal
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_TRAIN_ARGS, start_and_interrupt, train_through_the_cli
from sentiment_rnn.cli.commands import main
from sentiment_rnn.files.weights import names

ARGS = [*TINY_TRAIN_ARGS, "--epochs", "4", "--dropout", "0.2", "--recurrent-dropout", "0.1"]


def _weights(run_dir):
    with np.load(run_dir / "weights.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


@pytest.fixture(scope="module", params=["gru", "lstm"])
def cell_run(request, teacher_data_dir, tmp_path_factory):
    cell = request.param
    run = train_through_the_cli(tmp_path_factory.mktemp(cell), cell, [*ARGS, "--cell", cell],
                                teacher_data_dir)
    return cell, run


def test_the_run_holds_the_cell_and_its_gates(cell_run):
    cell, run = cell_run
    assert json.loads((run.run_dir / "config.json").read_text())["config"]["cell"] == cell
    assert tuple(_weights(run.run_dir)) == names(cell)
    assert "teacher" in run.output.lower()  # the same recipe: the teacher labelled texts


def test_a_killed_run_resumes_to_the_same_weights(cell_run, teacher_data_dir, tmp_path,
                                                  monkeypatch):
    cell, full = cell_run
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "sentiment_rnn", "train", *ARGS, "--cell", cell, "--run-dir",
           str(run), "--data-dir", str(teacher_data_dir)]
    code, _ = start_and_interrupt(cmd, run, signal.SIGKILL, tmp_path, after_epoch=2)
    assert code == -signal.SIGKILL
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, ["train", "--resume", str(run), "--data-dir",
                                     str(teacher_data_dir)])
    assert done.exit_code == 0, done.output
    expected, got = _weights(full.run_dir), _weights(run)
    assert tuple(got) == names(cell)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])


def test_predict_runs_on_numpy_as_keras_does(cell_run):
    _, run = cell_run
    texts = ["a wonderful superb film", "boring and awful", "the plot was fine"]
    out = {}
    for backend in ("numpy", "keras"):
        result = CliRunner().invoke(main, ["predict", "--model", str(run.run_dir), "--backend",
                                           backend, "--format", "jsonl", *texts])
        assert result.exit_code == 0, result.output
        out[backend] = [json.loads(line)["probability"] for line in result.output.splitlines()]
    assert len(out["numpy"]) == 3
    assert np.max(np.abs(np.array(out["numpy"]) - np.array(out["keras"]))) <= 1e-5


def test_inspect_check_passes_for_the_cell(cell_run, teacher_data_dir):
    cell, run = cell_run
    result = CliRunner().invoke(main, ["inspect", "--model", str(run.run_dir), "--json",
                                       "--check", "20", "--data-dir", str(teacher_data_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["cell"] == cell
    assert report["parity"]["ok"] and report["parity"]["reviews"] > 0
    assert report["parity"]["gradient_max_rel_diff"] <= 1e-5
