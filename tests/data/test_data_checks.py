"""Data that would train a wrong model is named before training (checks.py): one label only,
the same file twice, texts in both the training and validation parts, unlabelled texts that
are validation texts, an empty --unlabelled file; what train read is printed as evaluate prints
it; --baselines refuses a changed training file; the API reads --positive/--negative as the CLI
does; a full disk while training is one line and loses no run."""

import errno
import json
import os
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

import sentiment_rnn as sr
from conftest import tiny_corpus
from sentiment_rnn.evaluation.baselines import check_training_data
from sentiment_rnn.cli.commands import main
from sentiment_rnn.files.columns import LabelMap, check_label_pair, label_values
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import DataFileError
from sentiment_rnn.data.prepare import Source, labelled_texts, prepare

SMALL = ["--epochs", "2", "--vocab-size", "30", "--max-len", "12", "--batch-size", "8",
         "--learning-rate", "0.02", "--embed-dim", "8", "--units", "6", "--seed", "7",
         "--no-jit", "--teacher", "none"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_csv(path, rows, labels=("negative", "positive")):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for text, y in rows:
            writer.writerow([text, labels[y] if isinstance(y, int) else y])
    return path


def refused(result, message):
    """One line on standard error, exit 1, no traceback, nothing trained."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: {message}\n"
    assert "Epoch 1/" not in result.output


# ---- one label only --------------------------------------------------------------------------

def _ratings(path, stars):
    rows = [{"text": t, "stars": s} for (t, _), s in zip(tiny_corpus(len(stars)), stars)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("case", ["all positive", "all negative", "mapping leaves positive",
                                  "mapping leaves negative"])
def test_training_data_with_one_label_is_refused(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    if case.startswith("all"):
        y = 1 if case == "all positive" else 0
        data = write_csv(tmp_path / "d.csv", [(t, y) for t, _ in tiny_corpus(40)])
        args, rest = [], ""
        which, counts = case.split()[1], "40 positive, 0 negative" if y else \
            "0 positive, 40 negative"
    else:  # star ratings 1-5; the values given leave only one class
        data = _ratings(tmp_path / "d.jsonl", [1 + i % 5 for i in range(40)])
        positive, negative = ("5", "0") if case.endswith("positive") else ("9", "1")
        args = ["--label-column", "stars", "--positive", positive, "--negative", negative]
        which = case.split()[-1]
        counts = "8 positive, 0 negative" if which == "positive" else "0 positive, 8 negative"
        left = "1: 8, 2: 8, 3: 8, 4: 8" if which == "positive" else "2: 8, 3: 8, 4: 8, 5: 8"
        rest = f"; 32 rows with other labels left out ({left})"
    result = invoke("train", "--data", data, *args, *SMALL)
    refused(result, f"{data}: every labelled text is {which} ({counts}{rest}); a model needs "
                    f"both labels to learn and to be judged (check --label-column, --positive "
                    f"and --negative)")
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize("y", [0, 1])
def test_a_validation_file_with_one_label_is_refused(tmp_path, monkeypatch, y):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    val = write_csv(tmp_path / "v.csv", [(t, y) for t, _ in tiny_corpus(6, offset=40)])
    result = invoke("train", "--data", data, "--validation-data", val, *SMALL)
    which, counts = ("positive", "6 positive, 0 negative") if y else \
        ("negative", "0 positive, 6 negative")
    refused(result, f"{val}: every labelled text is {which} ({counts}); a model needs both "
                    f"labels to learn and to be judged (check --label-column, --positive and "
                    f"--negative)")


@pytest.mark.parametrize("n_rare", [1, 2])
def test_a_label_too_rare_to_split_is_named_or_held_out_once(tmp_path, n_rare):
    """One text of a label cannot be in both parts: refused with the counts; two are split one
    and one (the validation part holds both labels, even where 20% rounds to none)."""
    rows = [(t, 1) for t, y in tiny_corpus(40) if y == 1] + \
        [(t, 0) for t, y in tiny_corpus(40, offset=40) if y == 0][:n_rare]
    data = write_csv(tmp_path / "d.csv", rows)
    config = TrainConfig(data=str(data), vocab_size=30, max_len=12, seed=7)
    if n_rare == 1:
        with pytest.raises(DataFileError) as err:
            prepare(config)
        assert str(err.value) == (
            "the validation part (20% of each label, after a shuffle seeded with 7) holds 4 "
            "positive, 0 negative: it needs both labels; use more texts, another "
            "--validation-fraction or --validation-data")
    else:
        _, (x, y), (xv, yv) = prepare(config)
        assert (sorted(y.tolist()).count(0), sorted(yv.tolist()).count(0)) == (1, 1)


def test_the_api_refuses_one_label_too(tmp_path):
    data = write_csv(tmp_path / "d.csv", [(t, 1) for t, _ in tiny_corpus(20)])
    with pytest.raises(DataFileError, match="every labelled text is positive"):
        sr.train(data, run_dir=tmp_path / "run", epochs=1, teacher="none")
    assert not (tmp_path / "run").exists()


# ---- the same file twice ---------------------------------------------------------------------

def _same_as(kind, original, folder):
    path = folder / f"{kind}.csv"
    if kind == "same path":
        return original
    if kind == "symlink":
        os.symlink(original, path)
    elif kind == "hardlink":
        os.link(original, path)
    else:  # a copy: other file, the same bytes
        shutil.copyfile(original, path)
    return path


@pytest.mark.parametrize("kind", ["same path", "symlink", "hardlink", "copy"])
def test_validation_data_that_is_the_training_file_is_refused(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    val = _same_as(kind, data, tmp_path)
    how = "a copy of" if kind == "copy" else "the same file as"
    result = invoke("train", "--data", data, "--validation-data", val, *SMALL)
    refused(result, f"--validation-data {val} is {how} --data {data}: the model would be "
                    f"validated on the texts it trains on; give another file, or leave "
                    f"--validation-data out to hold out part of --data")
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize("kind", ["same path", "symlink", "copy"])
@pytest.mark.parametrize("other", ["data", "validation_data"])
def test_unlabelled_texts_that_are_a_labelled_file_are_refused(tmp_path, monkeypatch, kind,
                                                               other):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    val = write_csv(tmp_path / "v.csv", tiny_corpus(10, offset=40))
    unlabelled = _same_as(kind, data if other == "data" else val, tmp_path)
    result = invoke("train", "--data", data, "--validation-data", val, "--unlabelled",
                    unlabelled, *SMALL[:-2])
    how = "a copy of" if kind == "copy" else "the same file as"
    if other == "data":
        why = (f"--data {data}: the teacher would label texts the model already trains on; "
               f"give texts that have no labels")
    else:
        why = (f"--validation-data {val}: the teacher would label the validation texts and "
               f"the model train on them; give other texts")
    refused(result, f"--unlabelled {unlabelled} is {how} {why}")
    assert "Teacher:" not in result.output


# ---- texts in both parts ---------------------------------------------------------------------

@pytest.mark.parametrize("variant", [str, str.upper, lambda t: f"  {t}!!  ",
                                     lambda t: t.replace("<br /><br />", " ")])
def test_validation_texts_that_are_training_texts_are_dropped_and_counted(tmp_path, variant):
    """A quarter of the rows twice, the second copy changed in case, spacing, punctuation or
    HTML breaks only: the model reads the same tokens, so a validation text whose twin is in the
    training part is dropped; the rest of the validation part is texts the model has not
    seen."""
    rows = tiny_corpus(80)
    data = write_csv(tmp_path / "d.csv", rows + [(variant(t), y) for t, y in rows[:20]])
    config = TrainConfig(data=str(data), vocab_size=30, max_len=12, seed=7)
    source, lines = Source(), []
    _, (x, y), (xv, yv) = prepare(config, source=source, echo=lines.append)
    info = source.description
    dropped = info["validation_duplicates_dropped"]
    assert 0 < dropped <= 20 and len(yv) == 20 - dropped and len(y) == 80
    assert info["validation_reviews"] == len(yv)
    assert f"Dropped {dropped:,} validation texts whose words are also a training text's " \
           f"(compared as tokens): the validation part keeps {20 - dropped} texts the model " \
           f"has not seen" in lines
    train_rows = {tuple(r) for r in np.asarray(x)}
    assert not any(tuple(r) in train_rows for r in np.asarray(xv))
    # the baselines split the same way
    (t_train, _), (t_val, yv2) = labelled_texts(config)
    assert len(t_train) == 80 and yv2.tolist() == yv.tolist()


def test_a_validation_file_sharing_texts_with_the_data_is_deduplicated(tmp_path):
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    val = write_csv(tmp_path / "v.csv", tiny_corpus(10, offset=40) + tiny_corpus(3))
    config = TrainConfig(data=str(data), validation_data=str(val), vocab_size=30, max_len=12)
    source = Source()
    _, (x, y), (xv, yv) = prepare(config, source=source)
    assert (len(y), len(yv)) == (40, 10)
    assert source.description["validation_duplicates_dropped"] == 3


def test_no_overlap_drops_nothing(tmp_path):
    data = write_csv(tmp_path / "d.csv", tiny_corpus(80))
    source = Source()
    _, (_, y), (_, yv) = prepare(TrainConfig(data=str(data), vocab_size=30), source=source)
    assert (len(y), len(yv), source.description["validation_duplicates_dropped"]) == (64, 16, 0)


def test_unlabelled_texts_in_the_validation_part_are_left_out(tmp_path):
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    val_rows = tiny_corpus(10, offset=40)
    val = write_csv(tmp_path / "v.csv", val_rows)
    unlabelled = tmp_path / "u.txt"  # 20 new texts, 4 validation texts (one shouted)
    texts = [t for t, _ in tiny_corpus(20, offset=100)] + [t for t, _ in val_rows[:3]] + \
        [val_rows[3][0].upper()]
    unlabelled.write_text("\n".join(texts) + "\n")
    config = TrainConfig(data=str(data), validation_data=str(val), unlabelled=str(unlabelled),
                         vocab_size=30, max_len=12, teacher_sentences=0)
    source, lines = Source(), []
    _, (x, y), _ = prepare(config, source=source, teacher=True, echo=lines.append)
    note = source.description["teacher"]
    assert (note["unlabelled_texts"], note["unlabelled_in_validation"]) == (24, 4)
    assert note["unlabelled_used"] == 20 and len(y) == 40 + 20
    # with sentences: none of the left-out texts' sentences, and no sentence that is a
    # validation text: "Truly awful film." is both
    write_csv(tmp_path / "v.csv", val_rows + [("Truly awful film.", 0)])
    unlabelled.write_text("\n".join(texts + ["The plot was thin. Truly awful film."]) + "\n")
    write_csv(data, tiny_corpus(40) + [("Long and slow. Truly awful film.", 0)])
    with_sentences, lines = Source(), []
    prepare(config.replace(teacher_sentences=2), source=with_sentences, teacher=True,
            echo=lines.append)
    note = with_sentences.description["teacher"]
    assert (note["unlabelled_used"], note["unlabelled_in_validation"]) == (21, 4)
    assert note["unlabelled_sentences"] == 20 * 2 + 1  # "The plot was thin." only
    assert note["sentences_in_validation"] == 1
    # nor one of a training text's: the teacher of sentences does not learn it either
    assert (note["labelled_sentences"], note["labelled_sentences_in_validation"]) == (81, 1)
    assert note["sentence_teacher"]["train_texts"] == 41 + 81
    assert "Left out 2 sentences that are validation texts (compared as tokens)" in lines
    assert ("Left out 4 unlabelled texts that are also in the validation part (compared as "
            "tokens): the model does not learn the validation texts") in lines


# ---- an --unlabelled file with nothing to teach ----------------------------------------------

@pytest.mark.parametrize("name, content, what", [
    ("u.txt", "", "the file is empty"),
    ("u.txt", "\n   \n\t\n", "3 records, none with a word"),
    ("u.txt", "...\n!!! ???\n<br /><br />\n", "3 records, none with a word"),
    ("u.jsonl", '{"text": 1}\nnot json\n{"other": "great"}\n',
     "3 records, 3 of them malformed, none with a word"),
    ("u.csv", "text\n", "the file is empty"),
])
def test_an_unlabelled_file_with_no_words_is_refused_before_the_teacher(tmp_path, monkeypatch,
                                                                        name, content, what):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    unlabelled = tmp_path / name
    unlabelled.write_text(content)
    result = invoke("train", "--data", data, "--unlabelled", unlabelled, *SMALL[:-2])
    refused(result, f"{unlabelled}: no unlabelled text to teach with ({what}); give other "
                    f"--unlabelled texts, or leave --unlabelled out to train without a teacher")
    assert "Teacher" not in result.output and not (tmp_path / "models").exists()


# ---- what train read, printed as evaluate prints it ------------------------------------------

def test_train_prints_rows_left_out_columns_and_labels_as_evaluate_does(tmp_path, monkeypatch,
                                                                       trained_run):
    """Rows whose label is neither positive nor negative (4.5 stars) are counted and said by
    train, by the rule evaluate uses for its Data line, with the columns and label values chosen."""
    monkeypatch.chdir(tmp_path)
    stars = [[1, 2, 4, 5][i % 4] for i in range(40)] + [4.5] * 6 + [3] * 2
    data = _ratings(tmp_path / "r.jsonl", stars)
    args = ["--label-column", "stars", "--positive", "4,5", "--negative", "1,2"]
    line = (f"Data: {data} (JSONL, 40 labelled texts; 8 rows with other labels left out (3: 2, "
            f"4.5: 6))")
    columns = 'Columns: text "text", label "stars"; labels: positive 4,5, negative 1,2'
    # a refusal after reading still shows what was read: one label left by these values
    one = invoke("train", "--data", data, "--label-column", "stars", "--positive", "4.5",
                 "--negative", "0", *SMALL)
    assert one.exit_code == 1 and one.stderr.startswith(f"Error: {data}: every labelled text")
    assert one.stdout.splitlines()[:2] == [
        f"Data: {data} (JSONL, 6 labelled texts; 42 rows with other labels left out (1: 10, "
        f"2: 10, 3: 2, 4: 10, 5: 10))", 'Columns: text "text", label "stars"; labels: positive '
        '4.5, negative 0']
    evaluated = invoke("evaluate", "--model", trained_run, "--data", data, *args)
    assert evaluated.exit_code == 0, evaluated.output
    assert evaluated.stdout.splitlines()[1] == line
    trained = invoke("train", "--data", data, *args, *SMALL, "--run-dir", "run")
    assert trained.exit_code == 0, trained.output
    assert trained.stdout.splitlines()[:2] == [line, columns]


def test_a_headerless_tsv_and_a_validation_file_are_described(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text("".join(f"{y}\t{t}\n" for t, y in tiny_corpus(40)))
    val = write_csv(tmp_path / "v.csv", tiny_corpus(10, offset=40))
    lines = []
    prepare(TrainConfig(data=str(data), validation_data=str(val), vocab_size=30),
            echo=lines.append)
    assert lines[:4] == [
        f"Data: {data} (TSV, 40 labelled texts)",
        "Columns: text column 2, label column 1; labels: 0/1, neg/pos or negative/positive",
        f"Validation data: {val} (CSV, 10 labelled texts)",
        'Columns: text "review", label "sentiment"; labels: 0/1, neg/pos or negative/positive']


# ---- --baselines and a training file that changed --------------------------------------------

def _recorded_run(tmp_path, data, val=None):
    """What check_training_data reads of a run: its config and config.json's data record."""
    config = TrainConfig(data=str(data), validation_data=val and str(val))
    source = Source()
    prepare(config, source=source)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"config": config.to_dict(), "data": source.description}))
    return SimpleNamespace(config=config, config_file=config_file)


@pytest.mark.parametrize("which", ["data", "validation"])
@pytest.mark.parametrize("change", ["one byte", "appended row", "rows reordered"])
def test_baselines_refuse_a_training_file_that_changed(tmp_path, which, change):
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    val = write_csv(tmp_path / "v.csv", tiny_corpus(10, offset=40))
    run = _recorded_run(tmp_path, data, val)
    check_training_data(run)  # unchanged: fine
    path = data if which == "data" else val
    before = json.loads(run.config_file.read_text())["data"]
    old = (before if which == "data" else before["validation_file"])["sha256"]
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    path.write_text({"one byte": text.replace("great", "greaT", 1),
                     "appended row": text + "a new row,positive\n",
                     "rows reordered": lines[0] + "".join(reversed(lines[1:]))}[change])
    from sentiment_rnn.files.atomic import sha256_file

    with pytest.raises(DataFileError) as err:
        check_training_data(run)
    assert str(err.value) == (f"{path}: changed since the run was trained on it (sha256 "
                              f"{old[:12]} then, {sha256_file(path)[:12]} now); the baselines "
                              f"would learn from other data: restore the file, or leave out "
                              f"--baselines")


def test_baselines_record_the_whole_files_sha256_even_with_a_limit(tmp_path):
    from sentiment_rnn.files.atomic import sha256_file

    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    source = Source()
    prepare(TrainConfig(data=str(data), limit=20), source=source)
    assert source.description["sha256"] == sha256_file(data)


def test_evaluate_baselines_on_a_changed_file_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(60))
    assert invoke("train", "--data", data, *SMALL, "--run-dir", "run").exit_code == 0
    ok = invoke("evaluate", "--model", "run", "--data", data, "--baselines", "--json")
    assert ok.exit_code == 0, ok.output
    assert set(json.loads(ok.stdout)["baselines"]) >= {"majority_class", "logistic_regression"}
    old = json.loads((tmp_path / "run" / "config.json").read_text())["data"]["sha256"]
    write_csv(data, tiny_corpus(60, offset=1))  # the same size, other rows
    from sentiment_rnn.files.atomic import sha256_file

    result = invoke("evaluate", "--model", "run", "--data", data, "--baselines")
    refused(result, f"{data}: changed since the run was trained on it (sha256 {old[:12]} then, "
                    f"{sha256_file(data)[:12]} now); the baselines would learn from other data: "
                    f"restore the file, or leave out --baselines")
    assert result.stdout == ""


# ---- --positive/--negative: one rule for the CLI and the API ---------------------------------

@pytest.mark.parametrize("value, expected", [
    ("10", ("10",)), ("4,5", ("4", "5")), (" 4 , 5 ,", ("4", "5")), (5, ("5",)),
    (4.5, ("4.5",)), (4.0, ("4",)), ([4, 5], ("4", "5")), (("1", "2"), ("1", "2")),
    ({5, 4}, ("4", "5")), (np.int64(3), ("3",)), (["4,5", 3], ("4", "5", "3")),
    (None, ()), ([], ()),
])
def test_label_values_are_read_one_way(value, expected):
    assert label_values(value) == expected


@pytest.mark.parametrize("value", [b"4", {"4": 1}, float("nan"), float("inf"), True, [[4, 5]],
                                   [True], [b"5"], (v for v in "45"), np.array([4, 5])])
def test_anything_else_is_a_type_error(value):
    with pytest.raises(TypeError, match=r'^positive must be a string such as "4,5", a number, '
                                        r'or a list of them; got '):
        label_values(value, "positive")


@pytest.mark.parametrize("value", ["", ",", " , ", [","]])
def test_no_value_is_a_value_error(value):
    with pytest.raises(ValueError, match="give one or more comma-separated label values"):
        label_values(value)


@pytest.mark.parametrize("bad", [b"5", {"5": 1}, float("nan"), [[5]]])
def test_the_api_refuses_bad_label_values_before_training(tmp_path, bad):
    data = write_csv(tmp_path / "d.csv", tiny_corpus(20))
    with pytest.raises(TypeError, match="^positive must be"):
        sr.train(data, run_dir=tmp_path / "run", positive=bad, negative="1")
    with pytest.raises(TypeError, match="^negative must be"):
        sr.evaluate(tmp_path / "nowhere", data, positive="5", negative=bad)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("positive, negative", [(("4",), ()), ((), ("1", "2"))])
def test_one_side_of_the_label_map_is_refused_by_one_rule(tmp_path, trained_run, positive,
                                                          negative):
    with pytest.raises(DataFileError, match="^give both --positive and --negative, or neither$"):
        check_label_pair(positive, negative)
    with pytest.raises(DataFileError, match="^give both --positive and --negative, or neither$"):
        LabelMap(positive, negative)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(20))
    with pytest.raises(DataFileError, match="^give both"):  # not the run's own values instead
        sr.evaluate(trained_run, data, positive=positive, negative=negative)
    with pytest.raises(DataFileError, match="^give both"):
        sr.train(data, run_dir=tmp_path / "run", positive=positive, negative=negative)
    assert not (tmp_path / "run").exists()
    check_label_pair((), ())
    check_label_pair(("4",), ("1",))


def test_the_api_reads_a_string_of_values_as_the_cli_does(tmp_path, trained_run):
    stars = [[1, 2, 4, 5][i % 4] for i in range(40)] + [10] * 4 + [3] * 2
    data = _ratings(tmp_path / "r.jsonl", stars)
    for positive, negative in (("4,5", "1,2"), ([4, 5], [1, 2]), ("10,5,4", 1.0)):
        out = sr.evaluate(trained_run, data, label_column="stars", positive=positive,
                          negative=negative)
        cli = json.loads(invoke("evaluate", "--model", trained_run, "--data", data,
                                "--label-column", "stars", "--json", "--positive",
                                ",".join(map(str, label_values(positive))), "--negative",
                                ",".join(label_values(negative))).stdout)
        assert out == cli
    assert sr.evaluate(trained_run, data, label_column="stars", positive="10",
                       negative="3")["n"] == 6  # "10" is one value, not "1" and "0"


# ---- a full disk while training --------------------------------------------------------------

def _full_disk_at(monkeypatch, name: str, epoch: int | None = None):
    """Writing the run file `name` fails with ENOSPC (raised by the write itself, which names
    no file, as a full disk does); with `epoch`, only the epoch-th time it is written."""
    from sentiment_rnn.files import atomic as fileio
    from sentiment_rnn.training import epochs as training

    real = fileio.write_temp
    calls = {"n": 0}

    def write_temp(path, write):
        if os.path.basename(path) == name:
            calls["n"] += 1
            if epoch is None or calls["n"] == epoch:
                def failing(tmp):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return real(path, failing)
        return real(path, write)

    monkeypatch.setattr(fileio, "write_temp", write_temp)  # write_atomic's, and so the logs'
    monkeypatch.setattr(training, "write_temp", write_temp)  # the best model's


@pytest.mark.parametrize("name, epoch, kept", [
    ("checkpoint-002.keras", None, 1),  # the second epoch's checkpoint
    ("model.keras", 1, 0),  # the first best model
    ("weights.npz", 1, 0),
    ("history.json", 2, 1),  # a log, second epoch
    ("training_log.csv", 1, 0),  # a log, first epoch: nothing to keep
    ("checkpoint-001.keras", None, 0),
])
def test_a_full_disk_while_training_is_one_line_and_loses_no_run(tmp_path, monkeypatch,
                                                                 trained_run, name, epoch,
                                                                 kept):
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "models" / "old"
    shutil.copytree(trained_run, old)
    os.symlink("old", tmp_path / "models" / "latest")
    listing = {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()}
    data = write_csv(tmp_path / "d.csv", tiny_corpus(40))
    _full_disk_at(monkeypatch, name, epoch)
    run = tmp_path / "models" / "new"
    result = invoke("train", "--data", data, *SMALL, "--epochs", "3", "--patience", "3",
                    "--run-dir", run)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    why = f"Error: {run / name}: {os.strerror(errno.ENOSPC)}; "
    if kept:
        assert result.stderr == (f"{why}the run is kept as it was after epoch {kept}: free "
                                 f"some space, then resume it with: sentiment-rnn train "
                                 f"--resume {run}\n")
        assert json.loads((run / "state.json").read_text())["epoch"] == kept
    else:
        assert result.stderr == f"{why}no epoch was saved, so {run} is not kept\n"
        assert not run.exists()
    assert os.readlink(tmp_path / "models" / "latest") == "old"
    assert {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()} == listing
    assert not [p for p in (tmp_path / "models").rglob("*") if ".tmp" in p.name]


# ---- the text column is not the label column ---------------------------------------------------

@pytest.mark.parametrize("args, shown", [
    (["--text-column", "sentiment"], "sentiment"),  # the label column found by its common name
    (["--label-column", "review"], "review"),  # the text column found by its common name
    (["--text-column", "sentiment", "--label-column", "sentiment"], "sentiment"),
    (["--text-column", "Review", "--label-column", " review"], "Review"),  # names match any case
])
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_one_column_for_text_and_label_is_refused_at_once(trained_run, tmp_path, monkeypatch,
                                                         args, shown, command):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "d.csv"
    write_csv(path, tiny_corpus(30))
    before = {"train": ["train", "--data", path, "--run-dir", tmp_path / "r", *SMALL],
              "evaluate": ["evaluate", "--model", trained_run, "--data", path]}[command]
    result = invoke(*before, *args)
    message = f'--text-column and --label-column name the same column "{shown}"'
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    assert result.stderr in (f"Error: {message}\n", f"Error: {path}: {message}\n")
    assert not (tmp_path / "r").exists() and not (tmp_path / "models").exists()


def test_one_key_for_text_and_label_in_json_lines_is_refused(trained_run, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n"
                            for t, y in tiny_corpus(6)))
    result = invoke("evaluate", "--model", trained_run, "--data", path, "--text-column", "label")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.endswith(
        '--text-column and --label-column name the same column "label"\n')


# ---- evaluate --json counts the rows left out by --positive/--negative -------------------------

@pytest.mark.parametrize("stars, left_out", [
    ([1, 5, 3, 2, 4, 3, 5, 1], {"2": 1, "3": 2, "4": 1}),
    ([1, 5, 1, 5], {}),
])
def test_evaluate_json_counts_rows_left_out(trained_run, tmp_path, stars, left_out):
    rows = tiny_corpus(len(stars))
    path = tmp_path / "stars.csv"
    path.write_text("review,label\n" + "".join(f'"{t}",{s}\n' for (t, _), s in zip(rows, stars)))
    args = ["--model", trained_run, "--data", path, "--positive", "5", "--negative", "1"]
    result = invoke("evaluate", *args, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["n"], out["left_out"], out["left_out_labels"]) == (
        len(stars) - sum(left_out.values()), sum(left_out.values()), left_out)
    api = sr.evaluate(trained_run, path, positive="5", negative=1)
    assert (api["left_out"], api["left_out_labels"]) == (out["left_out"], left_out)
    text = invoke("evaluate", *args)
    assert (f"{sum(left_out.values())} rows with other labels left out" in text.stdout) == \
        bool(left_out)


# ---- a line end at the end of the input ends the last line, whatever the line end -------------

LINE_ENDS = {"LF": b"\n", "CRLF": b"\r\n", "CR": b"\r"}


@pytest.mark.parametrize("final", [False, True])
@pytest.mark.parametrize("end", list(LINE_ENDS))
@pytest.mark.parametrize("suffix, lines, rows", [
    (".txt", [b"great film", b"awful mess", b"fine"], 3),
    (".txt", [b"great film", b"", b"fine"], 3),  # a blank line in the middle is a text
    (".csv", [b"text,label", b"great film,1", b"awful mess,0"], 2),
    (".jsonl", [b'{"text": "great"}', b'{"text": "awful"}'], 2),
])
def test_every_line_end_gives_the_same_rows(trained_run, tmp_path, end, final, suffix, lines,
                                            rows):
    eol = LINE_ENDS[end]
    path = tmp_path / f"f{suffix}"
    path.write_bytes(eol.join(lines) + (eol if final else b""))
    result = invoke("predict", "--model", trained_run, "--file", path, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    texts = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert len(texts) == rows
    assert texts[-1] in ("fine", "awful mess", "awful")  # no empty row after the last one


@pytest.mark.parametrize("data, lines", [
    (b"a\rb\r", ["a\r", "b\r"]), (b"a\r\r", ["a\r", "\r"]), (b"a\r\nb\r", ["a\r\n", "b\r"]),
    (b"\r", ["\r"]), (b"a\rb", ["a\r", "b"]), (b"a\n\r", ["a\n", "\r"]),
])
def test_a_final_cr_ends_the_last_line(tmp_path, data, lines):
    from sentiment_rnn.files.streams import Source

    path = tmp_path / "f.txt"
    path.write_bytes(data)
    with Source(path) as source:
        assert [line for _, line in source] == lines
        assert source.number == len(lines)
