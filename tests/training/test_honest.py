"""Training that does what it says: the validation part judges the RNN only (the
teacher's C is chosen inside the training part), inspect's parity check reads the run's own
data, op determinism shared by threads, no umask toggling, models/latest moved only by runs in
models/, the teacher's progress, early stopping and the vocabulary and batch options."""

import csv
import json
import os
import stat
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import tiny_corpus
from sentiment_rnn.nn import callbacks as epochs
from sentiment_rnn.files import atomic as fileio
from sentiment_rnn.files import run_dirs as runs
from sentiment_rnn.data import distil, teacher
from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.prepare import prepare
from sentiment_rnn.text.tokenizer import tokenize

SMALL = ["--vocab-size", "30", "--max-len", "12", "--batch-size", "8", "--learning-rate",
         "0.02", "--embed-dim", "8", "--units", "6", "--seed", "7", "--no-jit"]


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def ok(result):
    assert (result.exit_code, result.exception) == (0, None), result.output


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "text"])
        writer.writerows([y, text] for text, y in rows)
    return path


def lines(rows):
    return [" ".join(tokenize(t)) for t, _ in rows]


# --- the teacher: C chosen inside the training part ---------------------------------------------

def test_validation_labels_choose_nothing_in_the_teacher():
    train, val = tiny_corpus(60), tiny_corpus(20, offset=60)
    y_val = np.array([y for _, y in val])
    honest = teacher.fit_teacher(lines(train), [y for _, y in train], lines(val), y_val)
    flipped = teacher.fit_teacher(lines(train), [y for _, y in train], lines(val), 1 - y_val)
    assert flipped.c == honest.c
    assert np.array_equal(flipped.model.coef_, honest.model.coef_)
    assert flipped.validation_accuracy == pytest.approx(1 - honest.validation_accuracy)
    # chosen on validation log loss, flipped labels would have wanted the weakest fit
    assert honest.c != teacher.C_GRID[0]
    assert honest.describe()["c_holdout_texts"] == 12  # a fifth of each label's 30


def test_the_holdout_is_a_seeded_stratified_fifth_of_the_training_part():
    y = np.array([0] * 40 + [1] * 10)
    mask = teacher.holdout_mask(y, seed=3)
    assert (mask[y == 0].sum(), mask[y == 1].sum()) == (8, 2)
    assert np.array_equal(mask, teacher.holdout_mask(y, seed=3))
    assert not np.array_equal(mask, teacher.holdout_mask(y, seed=4))
    for tiny in ([0, 1], [0, 0, 1], [1, 0, 1]):  # nothing to hold out, or the rest one-sided
        assert teacher.holdout_mask(np.array(tiny), seed=0) is None
    t = teacher.fit_teacher(["good film", "bad film"], [1, 0])
    assert (t.c, t.describe()["c_holdout_texts"]) == (teacher.DEFAULT_C, 0)
    assert t.validation_accuracy is None


def _teacher_files(tmp_path, val_rows):
    data = write_csv(tmp_path / "train.csv", tiny_corpus(40))
    val = write_csv(tmp_path / "val.csv", val_rows)
    unlabelled = tmp_path / "more.txt"
    unlabelled.write_text("\n".join(t for t, _ in tiny_corpus(30, offset=300)) + "\n")
    return TrainConfig(data=str(data), validation_data=str(val), unlabelled=str(unlabelled),
                       vocab_size=30, max_len=12, seed=7)


def _run_teacher(config, monkeypatch):
    """prepare with the teacher; returns (the Teacher fitted, the unlabelled targets)."""
    fitted = []
    original = teacher.fit_teacher
    monkeypatch.setattr(distil, "fit_teacher",
                        lambda *a, **k: fitted.append(original(*a, **k)) or fitted[-1])
    _, (x, y), _ = prepare(config, teacher=True)
    return fitted[0], np.asarray(y[40:])


def test_a_word_only_in_the_validation_part_never_enters_the_teacher(tmp_path, monkeypatch):
    val = [(f"zyzzyva {text} quokka zyzzyva", y) for text, y in tiny_corpus(10, offset=60)]
    fitted, _ = _run_teacher(_teacher_files(tmp_path, val), monkeypatch)
    features = fitted.vectorizer.vocabulary_
    assert features and "great" in features  # it did learn from the training part
    assert not [g for g in features if "zyzzyva" in g or "quokka" in g]


def test_flipped_validation_labels_leave_the_teachers_targets_unchanged(tmp_path, monkeypatch):
    rows = tiny_corpus(10, offset=60)
    honest, targets = _run_teacher(_teacher_files(tmp_path, rows), monkeypatch)
    flipped, flipped_targets = _run_teacher(
        _teacher_files(tmp_path, [(t, 1 - y) for t, y in rows]), monkeypatch)
    assert flipped.c == honest.c and np.array_equal(flipped_targets, targets)
    assert (honest.validation_accuracy, flipped.validation_accuracy) == (1.0, 0.0)


def test_the_teacher_shows_each_c_fit_and_the_labelling_progress(tmp_path, monkeypatch):
    said = []
    train = tiny_corpus(60)
    teacher.fit_teacher(lines(train), [y for _, y in train], echo=said.append)
    assert [s.split(":")[1].split("(")[0].strip() for s in said] == [
        f"C {i}/{len(teacher.C_GRID)}" for i in range(1, len(teacher.C_GRID) + 1)]
    assert all("held-out training texts" in s for s in said)
    said.clear()
    monkeypatch.setattr(distil, "PROGRESS_SECONDS", 0.0)  # every batch reports
    monkeypatch.setattr(distil, "BATCH", 7)
    config = _teacher_files(tmp_path, tiny_corpus(10, offset=60))
    _, (_, y), _ = prepare(config, teacher=True, echo=said.append)
    n = len(y) - 40  # the unlabelled texts kept (a text also in the labelled data is left out)
    labelled = [s for s in said if s.startswith("Teacher: labelled ")]
    assert n > 7 and labelled == [f"Teacher: labelled {min(k, n)} of {n} texts and sentences"
                                  for k in range(7, n + 7, 7)]  # 7 at a time


# --- inspect's parity check reads the run's own data ---------------------------------------------

def test_inspect_checks_parity_on_a_user_files_validation_part(tmp_path, monkeypatch):
    from sentiment_rnn.data import imdb as data

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "mine.csv", tiny_corpus(50))
    ok(invoke("train", "--data", "mine.csv", "--epochs", "1", *SMALL, "--run-dir", "run"))

    def no_tfds(*args, **kwargs):
        raise AssertionError("the parity check read a tfds split")

    monkeypatch.setattr(data, "load_split", no_tfds)
    result = invoke("inspect", "--model", "run", "--check", "4", "--data-dir", tmp_path / "none")
    ok(result)
    assert "Parity: NumPy vs Keras on 4 validation texts of mine.csv: OK" in result.output
    report = json.loads(invoke("inspect", "--model", "run", "--check", "100", "--json").output)
    assert (report["parity"]["reviews"], report["parity"]["source"]) == (
        10, "validation texts of mine.csv")  # the whole validation part: a fifth of 50


# --- op determinism, shared by threads ------------------------------------------------------------

def test_op_determinism_stays_on_until_the_last_thread_leaves():
    switches = epochs._switches()
    was_on = switches.is_op_determinism_enabled()
    if was_on:
        switches.disable_op_determinism()
    entered = {name: threading.Event() for name in "ab"}
    leave = {name: threading.Event() for name in "ab"}
    seen = {}

    @epochs.deterministic
    def work(name):
        entered[name].set()
        assert leave[name].wait(10)
        seen[name] = switches.is_op_determinism_enabled()

    threads = {n: threading.Thread(target=work, args=(n,)) for n in "ab"}
    try:
        threads["a"].start()
        assert entered["a"].wait(10)
        threads["b"].start()
        assert entered["b"].wait(10)
        leave["a"].set()  # the first one leaves while the second still runs
        threads["a"].join(10)
        assert switches.is_op_determinism_enabled()
        leave["b"].set()
        threads["b"].join(10)
        assert seen == {"a": True, "b": True}
        assert not switches.is_op_determinism_enabled()  # the last one turned it off again
    finally:
        leave["a"].set(), leave["b"].set()
        if was_on:
            switches.enable_op_determinism()


def test_op_determinism_found_on_is_left_on():
    switches = epochs._switches()
    switches.enable_op_determinism()
    epochs.deterministic(lambda: None)()
    assert switches.is_op_determinism_enabled()
    switches.disable_op_determinism()


# --- files are written without toggling the umask ------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_files_get_the_usual_mode_without_touching_the_umask(tmp_path, monkeypatch, umask):
    old = os.umask(umask)
    try:
        def no_umask(*args):
            raise AssertionError("os.umask was called")

        monkeypatch.setattr(os, "umask", no_umask)
        assert fileio.current_umask() == umask
        fileio.write_json_atomic(tmp_path / "a.json", {"x": 1})
        fileio.write_text_atomic(tmp_path / "b.txt", "hello")
    finally:
        monkeypatch.undo()
        os.umask(old)
    for name in ("a.json", "b.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.txt"]


# --- models/latest: moved only by a run inside models/ --------------------------------------------

@pytest.mark.parametrize("where, moves", [("models/a", True), ("models/x/b", True),
                                          ("models", False), ("elsewhere/c", False),
                                          ("models-old/d", False)])
def test_only_a_run_inside_models_moves_latest(tmp_path, monkeypatch, where, moves):
    monkeypatch.chdir(tmp_path)
    (tmp_path / where).mkdir(parents=True)
    assert runs.moves_latest(tmp_path / where) is moves
    assert runs.moves_latest(where) is moves
    assert runs.set_latest(tmp_path / where) is moves
    assert os.path.lexists("models/latest") is moves


def _old_latest(tmp_path):
    (tmp_path / "models" / "old").mkdir(parents=True)
    os.symlink("old", tmp_path / "models" / "latest")


def test_a_run_saved_elsewhere_leaves_models_latest_alone(tmp_path, monkeypatch, tiny_data_dir):
    import sentiment_rnn as sr

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    _old_latest(work)
    result = invoke("train", "--epochs", "1", "--limit", "60", *SMALL, "--data-dir",
                    tiny_data_dir, "--run-dir", "../elsewhere")
    ok(result)
    assert "latest" not in result.output
    sr.train(run_dir=tmp_path / "api-run", data_dir=tiny_data_dir, epochs=1, limit=60,
             vocab_size=30, max_len=12, batch_size=8, embed_dim=8, units=6, seed=7)
    assert (tmp_path / "elsewhere" / "weights.npz").is_file()
    assert (tmp_path / "api-run" / "weights.npz").is_file()
    assert os.readlink(work / "models" / "latest") == "old"
    monkeypatch.chdir(tmp_path)  # no models/ made where there was none
    sr.train(run_dir=tmp_path / "api-run-2", data_dir=tiny_data_dir, epochs=1, limit=60,
             vocab_size=30, max_len=12, batch_size=8, embed_dim=8, units=6, seed=7)
    assert not (tmp_path / "models").exists()


def test_a_run_in_models_moves_latest_and_says_so(tmp_path, monkeypatch, tiny_data_dir):
    monkeypatch.chdir(tmp_path)
    _old_latest(tmp_path)
    result = invoke("train", "--epochs", "1", "--limit", "60", *SMALL, "--data-dir",
                    tiny_data_dir)
    ok(result)
    run = next(p for p in (tmp_path / "models").iterdir() if p.name not in ("old", "latest"))
    assert os.readlink(tmp_path / "models" / "latest") == run.name
    assert f"models/latest now points at models/{run.name}\n" in result.output


# --- early stopping and the options of the vocabulary and the batches ----------------------------

def test_early_stopping_fires_and_the_best_epoch_is_saved(tmp_path, monkeypatch):
    """Validation labels opposite to the training labels: the better the RNN learns, the worse
    it validates, so validation stops improving and patience 1 stops the run early."""
    import sentiment_rnn as sr

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "train.csv", tiny_corpus(48))
    val = [(t, 1 - y) for t, y in tiny_corpus(16, offset=48)]
    write_csv(tmp_path / "val.csv", val)
    result = invoke("train", "--data", "train.csv", "--validation-data", "val.csv",
                    "--epochs", "8", "--patience", "1", *SMALL, "--run-dir", "run")
    ok(result)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert "Early stopping: validation accuracy has not improved for 1 epochs" in result.output
    assert len(history) < 8 and state["completed"]
    assert len(history) == state["best_epoch"] + 1  # stopped one epoch after the best
    best = history[state["best_epoch"] - 1]
    assert best["val_accuracy"] == max(row["val_accuracy"] for row in history)
    # the saved model is the best epoch's, not the last one's
    y = np.array([label for _, label in val])
    p = sr.load("run").predict([t for t, _ in val])
    eps = 1e-7
    loss = float(np.mean(-(y * np.log(np.clip(p, eps, 1)) +
                           (1 - y) * np.log(np.clip(1 - p, eps, 1)))))
    assert np.mean((p >= 0.5) == y) == best["val_accuracy"]
    assert loss == pytest.approx(best["val_loss"], abs=1e-4)
    assert loss != pytest.approx(history[-1]["val_loss"], abs=1e-4)


def vocab_rows():
    """40 reviews, 20 of each label, every one with `filler`; `often` in 15 positive and 5
    negative ones (weakly telling, frequent), `rare` in 3 positive ones (telling, rare)."""
    rows = []
    for i in range(40):
        y = int(i < 20)
        words = ["filler", "filler"]
        if (y and i < 15) or (not y and i < 25):
            words.append("often")
        if y and i < 3:
            words.append("rare")
        rows.append((" ".join(words), y))
    return rows


@pytest.mark.parametrize("options, word", [
    (["--vocab-method", "frequency"], "filler"),  # the most frequent word, telling or not
    (["--vocab-df-power", "0"], "rare"),  # |log-odds| alone: the most telling word
    (["--vocab-df-power", "1"], "often"),  # x document frequency: the frequent one
])
def test_the_vocabulary_options_choose_the_words_they_say(tmp_path, monkeypatch, options, word):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "train.csv", vocab_rows())
    write_csv(tmp_path / "val.csv", [("filler often", 1), ("filler rare", 0)])
    ok(invoke("train", "--data", "train.csv", "--validation-data", "val.csv", "--epochs", "1",
              *options, *SMALL[2:], "--vocab-size", "3", "--run-dir", "run"))
    assert (tmp_path / "run" / "vocab.txt").read_text().split("\n")[2] == word
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert options[0][2:].replace("-", "_") in config
    assert str(config[options[0][2:].replace("-", "_")]) in (options[1], f"{options[1]}.0")


@pytest.mark.parametrize("option, bucket", [("--random-batches", 1), ("--length-buckets", 32)])
def test_random_batches_are_not_grouped_by_length(tmp_path, monkeypatch, tiny_data_dir, option,
                                                  bucket):
    from sentiment_rnn.training import epochs as training

    monkeypatch.chdir(tmp_path)
    asked = []
    original = training.shuffled_buckets

    def spy(lengths, batch_size, rng, bucket_size):
        asked.append(bucket_size)
        return original(lengths, batch_size, rng, bucket_size)

    monkeypatch.setattr(training, "shuffled_buckets", spy)
    ok(invoke("train", "--epochs", "2", "--limit", "60", *SMALL, option, "--data-dir",
              tiny_data_dir, "--run-dir", "run"))
    assert asked == [bucket, bucket]
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert config["length_buckets"] is (bucket > 1)
