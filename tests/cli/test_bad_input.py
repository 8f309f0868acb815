"""Bad input gets a clear one-line error and a non-zero exit, never a traceback or a changed run."""

import hashlib
import json
import os
import shutil
import stat

import pytest
from click.testing import CliRunner

from sentiment_rnn.data import imdb as data
from sentiment_rnn.cli.commands import main


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_one_line_error(result, expected, code=1):
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert result.output == f"Error: {expected}\n"


# --- texts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   \t ", "!!! ... ???"])
def test_a_text_without_words_is_unknown_and_the_rest_is_classified(trained_run, text):
    result = invoke("predict", "--model", trained_run, "great", text, "awful")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert [r.split()[0] for r in rows] == ["positive", "unknown", "negative"]
    assert rows[1] == f"unknown   -       {' '.join(text.split())}".rstrip()
    assert result.stderr == ("Note: 1 of 3 text(s) have no word in the model's vocabulary: "
                             "labelled unknown, with no probability\n")


def test_a_one_megabyte_review(trained_run):
    review = ("the movie was boring " * 55_000)[:1_000_000] + " but great great great"
    result = invoke("predict", "--model", trained_run, review)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1


def test_a_million_word_line_on_standard_input(trained_run):
    from sentiment_rnn.prediction.predictor import Predictor

    line = " ".join(["awful", "boring"] * 500_000)
    result = invoke("predict", "--model", trained_run, "--format", "jsonl", "-",
                    input=line + "\n")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1
    # the model reads the last max_len (12) words, so the million words score as those 12
    expected = Predictor(trained_run).predict([" ".join(["awful", "boring"] * 6)])[0]
    assert json.loads(result.stdout)["probability"] == expected


def test_invalid_utf8_on_standard_input(trained_run):
    result = invoke("predict", "--model", trained_run, "-", input=b"great\nbad \xff\xfe film\n")
    assert_one_line_error(result, "standard input, line 2: not valid UTF-8 (byte 5 of the line)")


def test_a_binary_file_on_standard_input(trained_run):
    result = invoke("predict", "--model", trained_run, "-", input=b"PK\x03\x04\x00\x00great")
    assert_one_line_error(result, "standard input, line 1: a NUL byte; this looks like a binary "
                                  "file, not UTF-8 text")


def test_emoji_accents_and_other_scripts(trained_run):
    texts = ["great 😀 très superb", "素晴らしい 映画", "ужасно 🙁"]
    result = invoke("predict", "--model", trained_run, *texts, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(r) for r in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == texts
    assert [r["label"] for r in rows] == ["positive", "unknown", "unknown"]
    assert [r["probability"] is None for r in rows] == [False, True, True]
    assert result.stderr == ("Note: 2 of 3 text(s) have no word in the model's vocabulary: "
                             "labelled unknown, with no probability\n")


# --- options -----------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [
    ("--max-len", "0"), ("--epochs", "-1"), ("--vocab-size", "1"), ("--batch-size", "0"),
    ("--learning-rate", "0"), ("--limit", "abc"),
])
def test_out_of_range_options_are_refused_before_anything_runs(tmp_path, monkeypatch, option,
                                                               value):
    monkeypatch.chdir(tmp_path)
    result = invoke("train", option, value)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: Invalid value for '{option}'")
    assert result.output.endswith("(see 'main train --help')\n")
    assert result.output.count("\n") == 1  # one line, usage errors too
    assert isinstance(result.exception, SystemExit)  # handled: no exception escaped
    assert list(tmp_path.iterdir()) == []


# --- run folders -------------------------------------------------------------------------------

def damage_truncate_model(run):
    blob = (run / "model.keras").read_bytes()
    (run / "model.keras").write_bytes(blob[: len(blob) // 2])
    return (f"model.keras is damaged (its sha256 differs from the one recorded in state.json); "
            f"if you changed it on purpose, seal the run: sentiment-rnn seal {run}")


def damage_config_not_json(run):
    (run / "config.json").write_text('{"config": {"vocab_size": 3')
    return "config.json is not valid JSON (Expecting ',' delimiter: line 1 column 28 (char 27))"


def damage_config_bad_value(run):
    meta = json.loads((run / "config.json").read_text())
    meta["config"]["max_len"] = -5
    (run / "config.json").write_text(json.dumps(meta))
    return "config.json is invalid (max_len must be a whole number >= 1, got -5)"


def as_legacy(run):
    """Drop state.json's sha256 of config.json and vocab.txt (as 0.3.0 wrote runs), so that the
    checks behind that one are reached."""
    state = json.loads((run / "state.json").read_text())
    del state["settings_sha256"]
    (run / "state.json").write_text(json.dumps(state))


def damage_config_units(run):
    as_legacy(run)
    meta = json.loads((run / "config.json").read_text())
    meta["config"]["units"] = 64
    (run / "config.json").write_text(json.dumps(meta))
    return "weights.npz does not match config.json (weight W_xh has shape (8, 6), expected (8, 64))"


def damage_missing_vocab(run):
    (run / "vocab.txt").unlink()
    return "the vocabulary file vocab.txt is missing"


def damage_vocab_size(run):
    """A consistent-looking folder whose vocabulary is larger than the embedding."""
    as_legacy(run)
    with open(run / "vocab.txt", "a") as f:
        f.write("extra\n")
    meta = json.loads((run / "config.json").read_text())
    meta["config"]["vocab_size"] += 1
    meta["vocab"]["sha256"] = hashlib.sha256((run / "vocab.txt").read_bytes()).hexdigest()
    (run / "config.json").write_text(json.dumps(meta))
    return "weights.npz does not match config.json (weight embedding has shape (28, 8), " \
           "expected (29, 8))"


@pytest.mark.parametrize("damage", [damage_truncate_model, damage_config_not_json,
                                    damage_config_bad_value, damage_config_units,
                                    damage_missing_vocab, damage_vocab_size])
def test_a_damaged_run_folder_is_named_with_what_is_wrong(run_copy, damage):
    problem = damage(run_copy)
    before = snapshot(run_copy)
    result = invoke("predict", "--model", run_copy, "great")
    assert (result.exit_code, type(result.exception)) == (1, SystemExit), result.output
    assert result.output == f"Error: {run_copy}: {problem}\n"
    assert snapshot(run_copy) == before


def test_the_keras_backend_checks_the_embedding_against_the_vocabulary(run_copy):
    problem = damage_vocab_size(run_copy)
    (run_copy / "weights.npz").unlink()  # so only model.keras is left to disagree
    state = json.loads((run_copy / "state.json").read_text())
    del state["sha256"]["weights.npz"]
    (run_copy / "state.json").write_text(json.dumps(state))
    result = invoke("predict", "--model", run_copy, "--backend", "keras", "great")
    assert problem  # the folder is inconsistent in the same way as above
    assert_one_line_error(result, f"{run_copy}: model.keras embeds 28 words but the vocabulary "
                                  f"has 29")


@pytest.mark.parametrize("make, problem", [
    (lambda p: None, "no such run folder"),
    (lambda p: p.mkdir(), "config.json is missing"),
])
def test_missing_and_empty_run_folders(tmp_path, make, problem):
    folder = tmp_path / "run"
    make(folder)
    assert_one_line_error(invoke("predict", "--model", folder, "great"), f"{folder}: {problem}")


# --- dataset folders ---------------------------------------------------------------------------

def test_a_read_only_dataset_folder_works_and_is_not_written(tiny_data_dir, tmp_path):
    copy = tmp_path / "ro"
    shutil.copytree(tiny_data_dir, copy)
    for root, dirs, files in os.walk(copy):
        for name in dirs + files:
            path = os.path.join(root, name)
            os.chmod(path, os.stat(path).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = sorted((str(p), p.stat().st_mtime_ns) for p in copy.rglob("*"))
    texts, labels = data.load_split("test", copy)
    assert len(texts) == 20 and labels.tolist()[:4] == [0, 1, 0, 1]
    assert sorted((str(p), p.stat().st_mtime_ns) for p in copy.rglob("*")) == before


def test_a_half_prepared_dataset_folder_offline(tiny_data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda *a, **k: False)
    copy = tmp_path / "half"
    shutil.copytree(tiny_data_dir, copy)
    (copy / "imdb_reviews" / "plain_text" / "1.0.0" / "dataset_info.json").unlink()
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "--limit", "10", "--data-dir", copy)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: The IMDB dataset (imdb_reviews) is not prepared in "
                                    f"{copy} and this machine cannot reach the download server.")
    assert result.output.count("\n") == 1


def test_a_dataset_folder_with_a_missing_record_file(tiny_data_dir, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(tiny_data_dir, copy)
    (copy / "imdb_reviews" / "plain_text" / "1.0.0" / "imdb_reviews-test.tfrecord-00000-of-00001"
     ).unlink()
    with pytest.raises(data.DataNotFoundError, match="could not be read .* may be incomplete"):
        data.load_split("test", copy)


# --- safe loading --------------------------------------------------------------------------------

def _record_planted_hashes(run):
    """Make a planted file look like training wrote it (its sha256 recorded in state.json), so
    only the safe loader stands between."""
    state = json.loads((run / "state.json").read_text())
    state["sha256"] = {name: hashlib.sha256((run / name).read_bytes()).hexdigest()
                       for name in ("weights.npz", "model.keras")}
    (run / "state.json").write_text(json.dumps(state))


def test_a_weights_file_that_needs_pickle_is_refused(run_copy):
    import numpy as np

    with np.load(run_copy / "weights.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["W_hh"] = np.array([object()] * 36, dtype=object).reshape(6, 6)  # pickled on save
    np.savez(run_copy / "weights.npz", **arrays)
    _record_planted_hashes(run_copy)
    result = invoke("predict", "--model", run_copy, "--backend", "numpy", "great")
    assert result.exit_code == 1
    assert result.output == (f"Error: {run_copy}: weights.npz is unusable (weight W_hh holds "
                             f"Python objects, not numbers; such arrays are never read)\n")


def test_a_keras_model_with_code_in_it_is_refused(run_copy):
    from sentiment_rnn import _tf

    tf = _tf.tensorflow()
    model = tf.keras.Sequential([tf.keras.Input(shape=(None,), dtype="int32"),
                                 tf.keras.layers.Embedding(28, 8, name="embedding"),
                                 tf.keras.layers.Lambda(lambda x: x * 2),
                                 tf.keras.layers.SimpleRNN(6, name="rnn"),
                                 tf.keras.layers.Dense(1, name="output")])
    (run_copy / "model.keras").unlink()
    model.save(run_copy / "model.keras")
    _record_planted_hashes(run_copy)
    result = invoke("predict", "--model", run_copy, "--backend", "keras", "great")
    assert result.exit_code == 1
    assert result.output == (f"Error: {run_copy}: model.keras contains Python code (a lambda), "
                             f"which safe_mode refuses to load\n")
