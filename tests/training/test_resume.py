"""Interrupted training: SIGKILL and Ctrl-C leave a usable run that --resume finishes exactly."""

import json
import signal
import sys

import numpy as np
import pytest

from conftest import start_and_interrupt, train_through_the_cli
from sentiment_rnn.files.atomic import write_atomic

ARGS = ["--limit", "60", "--epochs", "12", "--patience", "12", "--vocab-size", "30",
        "--max-len", "12", "--batch-size", "8", "--learning-rate", "0.01", "--embed-dim", "8",
        "--units", "6", "--seed", "7"]


def _train(*args, cwd):
    return [sys.executable, "-m", "sentiment_rnn", "train", *ARGS, *map(str, args)]


def _invoke(*args):
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    return CliRunner().invoke(main, [str(a) for a in args])


def _weights(run_dir):
    with np.load(run_dir / "weights.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


DROPOUT = ["--dropout", "0.3", "--recurrent-dropout", "0.2"]


@pytest.fixture(scope="module")
def uninterrupted(tiny_data_dir, tmp_path_factory):
    """A full run with dropout on: its masks are random too, and must be drawn the same.
    Trained in this process (`--resume` after a kill is a process of its own)."""
    return train_through_the_cli(tmp_path_factory.mktemp("full"), "run", [*ARGS, *DROPOUT],
                                 tiny_data_dir).run_dir


def test_sigkill_then_resume_with_dropout_reaches_the_same_weights(uninterrupted, tiny_data_dir,
                                                                   tmp_path, monkeypatch):
    """Killed (SIGKILL, its own process) after epoch 3 of 12, then resumed: the weights, the
    history and the files of the uninterrupted run."""
    run = tmp_path / "run"
    code, _ = start_and_interrupt(_train(*DROPOUT, "--run-dir", run, "--data-dir",
                                          tiny_data_dir, cwd=tmp_path), run, signal.SIGKILL,
                                  tmp_path, after_epoch=3)
    assert code == -signal.SIGKILL
    state = json.loads((run / "state.json").read_text())
    assert 3 <= state["epoch"] < 12 and not state["completed"]
    # what a kill during a write leaves behind: a temporary file and a checkpoint not yet named
    (run / ".model.abc123.tmp.keras").write_bytes(b"half a zip")
    (run / f"checkpoint-{state['epoch'] + 1:03d}.keras").write_bytes(b"half a zip")

    monkeypatch.chdir(tmp_path)
    done = _invoke("train", "--resume", run, "--data-dir", tiny_data_dir)
    assert done.exit_code == 0, done.output
    assert f"Resuming {run} after epoch {state['epoch']}" in done.stdout
    expected, got = _weights(uninterrupted), _weights(run)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])
    def history(folder):  # every logged number but the wall time
        rows = json.loads((folder / "state.json").read_text())["history"]
        return [{k: v for k, v in row.items() if k not in ("seconds", "val_seconds")}
                for row in rows]

    assert history(run) == history(uninterrupted)
    assert sorted(p.name for p in run.iterdir()) == [
        ".lock", "checkpoint-012.keras", "config.json", "history.json", "learning_curves.png",
        "logs", "metadata.tsv", "model.keras", "state.json", "training_log.csv", "vectors.tsv",
        "vocab.txt", "weights.npz"]
    assert (run / "training_log.csv").read_text().count("\n") == 13  # header + 12, none twice


def test_ctrl_c_stops_after_the_step_and_prints_the_resume_command(tiny_data_dir, tmp_path):
    run = tmp_path / "run"
    code, output = start_and_interrupt(_train("--run-dir", run, "--data-dir", tiny_data_dir,
                                               cwd=tmp_path), run, signal.SIGINT, tmp_path,
                                       after_epoch=3)
    assert code == 130
    assert "Traceback" not in output
    assert f"Resume with: sentiment-rnn train --resume {run}" in output
    state = json.loads((run / "state.json").read_text())
    assert not state["completed"]
    assert (run / state["checkpoint"]).exists()
    assert not (tmp_path / "models" / "latest").exists()  # only completed runs become latest


def test_resume_refuses_a_finished_run(uninterrupted, tiny_data_dir):
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    result = CliRunner().invoke(main, ["train", "--resume", str(uninterrupted),
                                       "--data-dir", str(tiny_data_dir)])
    assert result.exit_code == 1
    assert result.output == f"Error: {uninterrupted}: this run already finished; nothing to resume\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "state.json"
    target.write_text('{"epoch": 1}')

    def crash(tmp):
        tmp.write_text('{"epo')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, crash)
    assert target.read_text() == '{"epoch": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_resume_refuses_new_settings(uninterrupted, tiny_data_dir):
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    result = CliRunner().invoke(main, ["train", "--resume", str(uninterrupted), "--epochs", "20",
                                       "--keep-oov", "--data-dir", str(tiny_data_dir)])
    assert result.exit_code == 2
    assert ("Error: --resume continues with the run's saved settings; drop --epochs, --keep-oov"
            in result.output)
