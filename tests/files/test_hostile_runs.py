"""Hostile conditions around run folders, by class: filesystem errors, damaged run folders,
concurrency and signals. Each asserts the exit code, one `Error:` line and no traceback, and
that no saved run changed."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import TINY_TRAIN_ARGS, sigint_as_a_terminal_gives_it
from sentiment_rnn.cli.commands import main
from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.prediction.predictor import Predictor
from sentiment_rnn.files.run_dirs import RunLock

CLI = [sys.executable, "-m", "sentiment_rnn"]


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_one_line(result, start, code=1):
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # handled, none escaped
    assert result.output.startswith(start), result.output
    assert result.output.count("\n") == 1, result.output


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- filesystem errors --------------------------------------------------------------------------

def _file_in_the_way(tmp):
    (tmp / "afile").write_text("x")
    return ["--run-dir", tmp / "afile" / "run"]


def _dangling_symlink(tmp):
    (tmp / "link").symlink_to(tmp / "nowhere")
    return ["--run-dir", tmp / "link" / "run"]


def _models_is_a_file(tmp):
    (tmp / "models").write_text("x")
    return []


def _latest_is_a_folder(tmp):
    (tmp / "models" / "latest").mkdir(parents=True)
    return []


@pytest.mark.parametrize("setup, start", [
    (_file_in_the_way, "Error: {tmp}/afile: is not a folder (a file or a dangling symlink"),
    (_dangling_symlink, "Error: {tmp}/link: is not a folder (a file or a dangling symlink"),
    (_models_is_a_file, "Error: models: exists and is not a folder"),
    (_latest_is_a_folder, "Error: models/latest: is not a symlink"),
])
def test_a_bad_place_for_the_run_fails_before_any_training(in_tmp, tiny_data_dir, setup, start):
    args = setup(in_tmp)
    before = sorted(str(p) for p in in_tmp.rglob("*"))
    started = time.monotonic()
    result = invoke("train", *TINY_TRAIN_ARGS, "--data-dir", tiny_data_dir, *args)
    assert_one_line(result, start.format(tmp=in_tmp))
    assert time.monotonic() - started < 10  # nothing was trained first
    assert sorted(str(p) for p in in_tmp.rglob("*")) == before  # and nothing was left


@pytest.mark.parametrize("args, start", [
    (["--limit", "2", "--validation-fraction", "0.0001"], "Error: 2 training reviews cannot be"),
    (["--units", "200000"], "Error: Invalid value for '--units': 200000 is not in the range"),
])
def test_impossible_training_settings(in_tmp, tiny_data_dir, args, start):
    result = invoke("train", "--data-dir", tiny_data_dir, *args)
    assert result.exit_code in (1, 2) and isinstance(result.exception, SystemExit)
    assert result.output.startswith(start) and result.output.count("\n") == 1
    assert not (in_tmp / "models").exists()


def test_a_report_that_cannot_be_written_keeps_the_printed_results(trained_run, tmp_path):
    (tmp_path / "afile").write_text("x")
    data = tmp_path / "d.tsv"
    data.write_text("1\tgreat\n0\tawful\n")
    result = invoke("evaluate", "--model", trained_run, "--data", data, "--report",
                    tmp_path / "afile" / "report")
    assert result.exit_code == 1
    assert "accuracy" in result.stdout  # the results came first
    assert result.stderr.startswith("Error: the report could not be written, nothing of it was "
                                    "kept: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "d.tsv"]


# --- damaged run folders ------------------------------------------------------------------------

def _state(run, **changes):
    state = json.loads((run / "state.json").read_text())
    state.update(changes)
    (run / "state.json").write_text(json.dumps(state))


def _fifo(run, name):
    (run / name).unlink()
    os.mkfifo(run / name)


@pytest.mark.parametrize("damage, problem", [
    (lambda r: _state(r, sha256=None), "state.json is invalid (sha256 is null)"),
    (lambda r: _state(r, sha256=["a"]), 'state.json is invalid (sha256 is ["a"])'),
    (lambda r: _state(r, epoch=-3), "state.json is invalid (epoch is -3)"),
    (lambda r: _state(r, epoch=10**100), "state.json is invalid (epoch is 1000000000000"),
    (lambda r: _state(r, history=[1, 2]), "state.json is invalid (history has 2 rows for 8"),
    (lambda r: _state(r, best_val_loss=None), "state.json is invalid (best_val_accuracy and "),
    (lambda r: _state(r, checkpoint="../../etc/passwd"), "state.json is invalid (checkpoint"),
    (lambda r: (r / "state.json").write_text("[" * 100_000 + "]" * 100_000),
     "state.json is not usable JSON (nested too deeply)"),
    (lambda r: (r / "config.json").write_text('{"config": {"seed": ' + "7" * 5000 + "}}"),
     "config.json is not valid JSON (Exceeds the limit (4300 digits)"),
    (lambda r: _fifo(r, "config.json"), "config.json is not a regular file"),
    (lambda r: (r / "weights.npz").unlink() or (r / "weights.npz").mkdir(),
     "weights.npz is not a regular file"),
])
def test_damaged_run_files_are_named_and_nothing_hangs(run_copy, damage, problem):
    damage(run_copy)
    before = snapshot(run_copy)
    out = subprocess.run([*CLI, "predict", "--model", str(run_copy), "great"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith(f"Error: {run_copy}: {problem}"), out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert snapshot(run_copy) == before


def test_resume_checks_the_checkpoint_before_deleting_anything(run_copy, tiny_data_dir):
    _state(run_copy, completed=False, checkpoint="checkpoint-001.keras")  # named but absent
    (run_copy / ".model.x.tmp.keras").write_bytes(b"left by a kill")
    before = {p.name for p in run_copy.iterdir()}
    result = invoke("train", "--resume", run_copy, "--data-dir", tiny_data_dir)
    assert_one_line(result, f"Error: {run_copy}: checkpoint-001.keras is missing")
    assert {p.name for p in run_copy.iterdir()} == before  # checkpoint-008.keras is still there


def test_resume_after_lowering_epochs_finishes_the_run_with_a_word(run_copy, tiny_data_dir,
                                                                    in_tmp):
    _state(run_copy, completed=False)
    meta = json.loads((run_copy / "config.json").read_text())
    meta["config"]["epochs"] = 5
    (run_copy / "config.json").write_text(json.dumps(meta))
    assert invoke("seal", run_copy).exit_code == 0  # an edit is refused until it is sealed
    result = invoke("train", "--resume", run_copy, "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    assert "8 epochs are finished and config.json now says at most 5: the run is complete" \
        in result.output
    assert json.loads((run_copy / "state.json").read_text())["completed"]


# --- concurrency --------------------------------------------------------------------------------

def test_a_second_trainer_of_the_same_run_is_told_it_is_in_use(run_copy, tiny_data_dir):
    _state(run_copy, completed=False)
    before = snapshot(run_copy)
    with RunLock(run_copy):
        result = invoke("train", "--resume", run_copy, "--data-dir", tiny_data_dir)
    assert_one_line(result, f"Error: {run_copy}: in use by another process that is training it")
    assert snapshot(run_copy) == before


def test_two_trainings_started_together_get_two_folders(tiny_data_dir, tmp_path):
    cmd = [*CLI, "train", *TINY_TRAIN_ARGS, "--epochs", "2", "--data-dir", str(tiny_data_dir)]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    runs = sorted(p for p in (tmp_path / "models").iterdir() if p.name != "latest")
    assert len(runs) == 2
    for run in runs:
        assert json.loads((run / "state.json").read_text())["completed"]
        Predictor(run)  # each folder is complete and consistent


def test_predict_during_training_never_sees_a_damaged_model(tiny_data_dir, tmp_path):
    """A training (its own process) saves a better model at each of its 8 epochs while this
    process loads and uses the run over and over."""
    run = tmp_path / "run"
    args = [a if a not in ("8",) else "16" for a in TINY_TRAIN_ARGS]  # batches of 16, 16 dims
    proc = subprocess.Popen([*CLI, "train", *args, "--epochs", "8", "--patience", "8",
                             "--learning-rate", "0.002", "--run-dir", str(run), "--data-dir",
                             str(tiny_data_dir)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loads, errors = 0, []
    try:
        while proc.poll() is None:
            if not run.exists():  # still starting: nothing to race yet, leave it the CPU
                time.sleep(0.02)
                continue
            try:
                Predictor(run).predict(["great fun"])
                loads += 1
            except RunFolderError as exc:
                if "damaged" in str(exc) or "kept changing" in str(exc):
                    errors.append(str(exc))
                else:  # no model saved yet: try again soon, without taking the trainer's CPU
                    time.sleep(0.005)
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0
    assert loads > 10  # the race was really run
    assert errors == []
    history = json.loads((run / "history.json").read_text())
    # the model was replaced at every epoch while it was being loaded: each was the best so far
    assert len(history) == 8
    score = [(row["val_accuracy"], -row["val_loss"]) for row in history]  # the rule for best
    assert all(b > a for a, b in zip(score, score[1:]))


# --- signals ------------------------------------------------------------------------------------

def test_sigint_during_a_long_predict_stops_without_a_traceback(trained_run):
    """A stream that is still open: predict has written its first rows and waits for more
    when Ctrl-C comes, whatever the machine's speed."""
    proc = subprocess.Popen([*CLI, "predict", "--model", str(trained_run), "--file", "-",
                             "--jobs", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=sigint_as_a_terminal_gives_it)
    proc.stdin.write(b"great fun and a wonderful story\n" * 2500)  # 2 full chunks, then a wait
    proc.stdin.flush()
    assert b"great fun and a wonderful story" in proc.stdout.readline()  # it is at work
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    finally:
        proc.stdin.close()
    err = proc.stderr.read().decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().endswith("Aborted.")


def test_a_full_disk_during_training_loses_nothing_and_resume_finishes(tiny_data_dir, in_tmp,
                                                                       monkeypatch):
    import errno

    from sentiment_rnn.training import epochs as training

    real, calls = training.save_keras, []

    def full_on_the_third_checkpoint(model, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(model, path)

    monkeypatch.setattr(training, "save_keras", full_on_the_third_checkpoint)
    run = in_tmp / "run"
    result = invoke("train", *TINY_TRAIN_ARGS, "--epochs", "4", "--run-dir", run, "--data-dir",
                    tiny_data_dir)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr == (f"Error: {run}/checkpoint-003.keras: No space left on device; the "
                             f"run is kept as it was after epoch 2: free some space, then "
                             f"resume it with: sentiment-rnn train --resume {run}\n")
    state = json.loads((run / "state.json").read_text())
    assert (state["epoch"], state["checkpoint"], state["completed"]) == (
        2, "checkpoint-002.keras", False)
    Predictor(run)  # the committed best model is intact
    monkeypatch.setattr(training, "save_keras", real)  # the disk has room again
    result = invoke("train", "--resume", run, "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    assert json.loads((run / "state.json").read_text())["epoch"] == 4
