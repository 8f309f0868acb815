"""The teacher (TF-IDF + logistic regression labelling unlabelled texts), the weight average,
soft-target accuracy, and the short-text check."""

import json
import signal
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_TRAIN_ARGS, start_and_interrupt, tiny_corpus
from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import ConfigError, DataFileError
from sentiment_rnn.data.prepare import prepare
from sentiment_rnn.data.id_store import Stacked, load_prepared
from sentiment_rnn.evaluation.short_texts import last_sentence
from sentiment_rnn.data.id_store import UNLABELLED_FILES, NotPrepared
from sentiment_rnn.data.teacher import fit_teacher, grams
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import encode


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def weights(run_dir):
    with np.load(run_dir / "weights.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def lines(rows):
    from sentiment_rnn.text.tokenizer import tokenize

    return [" ".join(tokenize(t)) for t, _ in rows]


def test_grams_are_the_words_then_the_word_pairs():
    assert grams("not good at all") == ["not", "good", "at", "all", "not good", "good at",
                                        "at all"]
    assert grams("") == []


def test_the_teacher_chooses_c_on_validation_and_labels_new_texts():
    train, val = tiny_corpus(60), tiny_corpus(20, offset=60)
    teacher = fit_teacher(lines(train), [y for _, y in train], lines(val), [y for _, y in val])
    assert teacher.c in (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
    assert teacher.validation_accuracy == 1.0  # the tiny corpus is separable by its words
    p = teacher.predict(["a great wonderful film", "an awful boring film"])
    assert p.shape == (2,) and p[0] > 0.5 > p[1]
    assert teacher.describe()["train_texts"] == 60


def test_the_teacher_needs_both_labels():
    with pytest.raises(DataFileError, match="positive and negative"):
        fit_teacher(["good film", "great film"], [1, 1], ["bad"], [0])


def test_stacked_rows_read_as_their_concatenation():
    a = np.arange(12, dtype=np.uint16).reshape(4, 3)
    b = 100 + np.arange(6, dtype=np.uint16).reshape(2, 3)
    both, stacked = np.concatenate([a, b]), Stacked(a, b)
    assert len(stacked) == 6 and stacked.shape == (6, 3) and stacked.dtype == np.uint16
    for rows in ([5, 0, 3], [4, 5], [1], slice(2, 6), slice(0, 6, 2)):
        np.testing.assert_array_equal(stacked[rows], both[rows])


def test_prepare_with_the_teacher_adds_the_unlabelled_rows_with_soft_targets(teacher_data_dir,
                                                                             tmp_path):
    config = TrainConfig(limit=60, vocab_size=30, max_len=12, teacher_sentences=0)
    info = {}
    from sentiment_rnn.data.prepare import Source

    source = Source(info)
    vocab, (x, y), (xv, yv) = prepare(config, teacher_data_dir, folder=tmp_path, source=source,
                                      teacher=True)
    assert len(xv) == 12 and yv.dtype == np.int32
    # 48 labelled rows, then the 60 unlabelled (limit) that have a word, less the last 12: the
    # tiny corpus repeats every 80 texts, so they are the validation texts (checks.py)
    assert len(x) == 48 + 48
    assert y.dtype == np.float32 and set(np.unique(y[:48])) == {0.0, 1.0}
    assert ((y[48:] > 0) & (y[48:] < 1)).all()  # probabilities, not labels
    # the unlabelled corpus follows the labelled one's pattern: the teacher reads it right
    truth = np.array([i % 2 for i in range(200, 248)])
    assert ((y[48:] > 0.5) == truth).all()
    note = info["teacher"]
    assert note["used"] and note["unlabelled_texts"] == 60 and note["unlabelled_used"] == 48
    assert note["unlabelled_in_validation"] == 12
    assert note["validation_accuracy"] == 1.0 and note["train_texts"] == 48
    assert note["source"] == "tensorflow-datasets imdb_reviews, unsupervised split"
    (x2, y2), _ = load_prepared(tmp_path)  # what --resume reads back
    np.testing.assert_array_equal(x2[np.arange(len(x2))], x[np.arange(len(x))])
    np.testing.assert_array_equal(y2, y)
    # without teacher=True (the baselines), only the labelled rows
    _, (x3, y3), _ = prepare(config, teacher_data_dir, vocab)
    assert len(x3) == 48 and y3.dtype == np.int32


def test_the_teacher_also_labels_sentences_of_each_unlabelled_text(teacher_data_dir, tmp_path):
    """teacher_sentences=2 (the default): after each unlabelled text's row come the rows of two
    of its sentences (the tiny texts have two: both), each labelled by the teacher alone."""
    from sentiment_rnn.data.prepare import Source
    from sentiment_rnn.text.sentences import sentences

    info = {}
    config = TrainConfig(limit=60, vocab_size=30, max_len=12, labelled_sentences=False)
    vocab, (x, y), _ = prepare(config, teacher_data_dir, folder=tmp_path, source=Source(info),
                               teacher=True)
    whole = TrainConfig(limit=60, vocab_size=30, max_len=12, teacher_sentences=0)
    _, (xw, yw), _ = prepare(whole, teacher_data_dir, teacher=True)
    assert len(x) == 48 + 3 * 48 and len(xw) == 48 + 48
    assert info["teacher"]["unlabelled_sentences"] == 96
    assert info["teacher"]["unlabelled_used"] == 48
    rows = np.arange(48, len(x))
    texts = [t for t, _ in tiny_corpus(80, offset=200)]
    kept = [t for t in texts[:60] if (t, 0) not in tiny_corpus(60)[48:]
            and (t, 1) not in tiny_corpus(60)[48:]]
    assert len(kept) == 48
    expected = []
    for text in kept:
        expected += [text, *sentences(text)]
    np.testing.assert_array_equal(x[rows], encode(expected, vocab, 12, True, length=12))
    # the whole texts' targets are what the teacher gave without the sentences
    np.testing.assert_array_equal(y[48::3], yw[48:])
    # each sentence on its own: the first holds one sentiment word, the second another, so the
    # teacher is surer of the whole text than of either, and never on the other side
    first, second = y[49::3], y[50::3]
    truth = np.array([i % 2 for i in range(200, 260)])[[texts.index(t) for t in kept]]
    for part in (first, second):
        assert ((part > 0.5) == truth).all() and not np.array_equal(part, y[48::3])


def test_the_teacher_learns_sentences_of_the_training_texts_and_labels_them(teacher_data_dir):
    """labelled_sentences (the default): the teacher's fit also holds two sentences of each
    training text with its label, and those sentences are the first teacher-labelled rows."""
    from sentiment_rnn.data.prepare import Source
    from sentiment_rnn.text.sentences import sentences

    info, config = {}, TrainConfig(limit=60, vocab_size=30, max_len=12)
    vocab, (x, y), _ = prepare(config, teacher_data_dir, source=Source(info), teacher=True)
    note = info["teacher"]
    assert (note["labelled_sentences"], note["unlabelled_sentences"]) == (96, 96)
    assert note["train_texts"] == 48  # the teacher of texts; of sentences: texts and sentences
    assert note["sentence_teacher"]["train_texts"] == 48 + 96
    assert note["sentence_teacher"]["c"] == note["c"]
    assert note["sentence_teacher"]["c_chosen_by"] == "the review teacher's"
    assert len(x) == 48 + 96 + 48 * 3
    training = [t for t, _ in tiny_corpus(48)]
    expected = [s for text in training for s in sentences(text)]
    np.testing.assert_array_equal(x[np.arange(48, 144)], encode(expected, vocab, 12, True, 12))
    truth = np.repeat([y for _, y in tiny_corpus(48)], 2)
    assert ((y[48:144] > 0.5) == truth).all()  # the teacher learnt them: each on its side
    plain = {}
    _, (xp, yp), _ = prepare(config.replace(labelled_sentences=False), teacher_data_dir,
                             source=Source(plain), teacher=True)
    assert plain["teacher"]["train_texts"] == 48 and plain["teacher"]["labelled_sentences"] == 0
    assert "sentence_teacher" not in plain["teacher"]
    # whole texts are the text teacher's in both; sentences the sentence teacher's here only
    np.testing.assert_array_equal(y[144::3], yp[48::3])
    assert not np.array_equal(y[145::3], yp[49::3])


def test_pick_sentences_takes_the_last_and_others_at_random_in_order():
    from sentiment_rnn.data.distil import pick_sentences

    text = "One is here. Two is here! Three? Four is here.<br />Five"
    assert pick_sentences(text, 0, np.random.default_rng(0)) == []
    assert pick_sentences("Only one sentence.", 3, np.random.default_rng(0)) == []
    assert pick_sentences(text, 1, np.random.default_rng(0)) == ["Five"]
    assert pick_sentences(text, 9, np.random.default_rng(0)) == [
        "One is here.", "Two is here!", "Three?", "Four is here.", "Five"]
    picks = {tuple(pick_sentences(text, 3, np.random.default_rng(seed))) for seed in range(40)}
    assert all(len(p) == 3 and p[-1] == "Five" and list(p) == sorted(p, key=text.index)
               for p in picks)
    assert len(picks) == 6  # every pair of the four others is drawn: C(4, 2)


def test_prepared_files_are_used_only_if_they_match_prepared_json(teacher_data_dir, tmp_path):
    import os

    config = TrainConfig(limit=60, vocab_size=30, max_len=12, teacher_sentences=0)
    prepare(config, teacher_data_dir, folder=tmp_path, teacher=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ids-train.npy", "ids-unlabelled.npy", "ids-validation.npy", "labels-train.npy",
        "labels-validation.npy", "prepared.json", "targets-unlabelled.npy"]
    (x, y), _ = load_prepared(tmp_path)
    assert len(x) == 96  # 12 of the 60 unlabelled texts are validation texts: left out
    targets = tmp_path / UNLABELLED_FILES[1]
    good, good_ids = targets.read_bytes(), (tmp_path / UNLABELLED_FILES[0]).read_bytes()
    np.save(targets, np.full(60, 0.5, np.float32))  # valid, but not what was prepared
    with pytest.raises(NotPrepared, match="does not match prepared.json"):
        load_prepared(tmp_path)
    targets.unlink()
    os.mkfifo(targets)  # a FIFO in its place: an error, never a hang
    with pytest.raises(NotPrepared, match="does not match prepared.json"):
        load_prepared(tmp_path)
    targets.unlink()
    (tmp_path / UNLABELLED_FILES[0]).unlink()
    with pytest.raises(NotPrepared, match="is missing"):  # not silently without the teacher
        load_prepared(tmp_path)
    targets.write_bytes(good)
    (tmp_path / UNLABELLED_FILES[0]).write_bytes(good_ids)
    digests = json.loads((tmp_path / "prepared.json").read_text())["sha256"]
    (x, _), _ = load_prepared(tmp_path, digests)  # as config.json recorded them: accepted
    without = {k: v for k, v in digests.items() if k not in UNLABELLED_FILES}
    (tmp_path / "prepared.json").write_text(json.dumps({"sha256": without}))
    assert len(load_prepared(tmp_path)[0][0]) == 48  # consistent in itself, but...
    with pytest.raises(NotPrepared, match="prepared.json does not match config.json"):
        load_prepared(tmp_path, digests)  # ...not what the run started with
    (tmp_path / "prepared.json").unlink()
    with pytest.raises(NotPrepared, match="prepared.json is missing"):
        load_prepared(tmp_path)


def test_a_folder_where_a_prepared_file_goes_is_named_in_one_line(teacher_data_dir, tmp_path):
    (tmp_path / "ids-train.npy").mkdir()
    config = TrainConfig(limit=60, vocab_size=30, max_len=12)
    with pytest.raises(DataFileError) as error:
        prepare(config, teacher_data_dir, folder=tmp_path, teacher=True)
    assert str(error.value) == (f"{tmp_path / 'ids-train.npy'}: is a folder where the run keeps "
                                f"a file; remove it and run the command again")


def test_a_full_disk_while_preparing_names_the_file(tmp_path, monkeypatch):
    import errno
    import os

    from sentiment_rnn.data.id_store import PreparedFiles

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(OSError) as error:
        PreparedFiles(tmp_path).new_array("ids-train.npy", (10, 4), np.uint16)
    assert (error.value.errno, error.value.filename) == (errno.ENOSPC,
                                                         str(tmp_path / "ids-train.npy"))


def test_train_with_a_teacher_records_it_and_none_is_the_plain_run(taught, trained,
                                                                    teacher_data_dir, tmp_path,
                                                                    monkeypatch):
    """taught: TINY_TRAIN_ARGS on the data with an unsupervised split (the teacher by default);
    trained: the same on the data without one; both session runs, trained here once."""
    # 12 of the 60 unlabelled texts are validation texts (the tiny corpus repeats): left out
    assert ("Training on 48 reviews and 48 texts the teacher labelled (and 96 of their "
            "sentences), and 96 sentences of the training reviews, validating on 12"
            ) in taught.output
    assert "Teacher: fitting NB-weighted TF-IDF + logistic regression on 48 training" in taught.output
    assert "Teacher (C " in taught.output
    saved = json.loads((taught.run_dir / "config.json").read_text())
    assert saved["config"]["teacher"] == "tfidf-nb" and saved["config"]["ema_momentum"] is None
    assert saved["data"]["teacher"]["validation_accuracy"] == 1.0
    assert saved["data"]["teacher"]["unlabelled_used"] == 48  # --limit applies too
    # the everyday words that the tiny corpus has are all in its 28-word vocabulary
    assert saved["config"]["vocab_keep"] == list(TrainConfig().vocab_keep)
    vocab = (taught.run_dir / "vocab.txt").read_text().split()
    seen = {w for text, _ in tiny_corpus(48) for w in tokenize(text)}
    assert len(seen & set(TrainConfig().vocab_keep)) == 15
    assert seen & set(TrainConfig().vocab_keep) <= set(vocab)
    assert not any((taught.run_dir / name).exists() for name in UNLABELLED_FILES)

    monkeypatch.chdir(tmp_path)
    plain = invoke("train", *TINY_TRAIN_ARGS, "--teacher", "none", "--run-dir", "plain",
                   "--data-dir", teacher_data_dir)
    assert plain.exit_code == 0, plain.output
    assert "teacher labelled" not in plain.output
    # --teacher none is today's training: bit-equal to a run on data with nothing to teach
    before = trained
    assert "No teacher: imdb_reviews has no 'unsupervised' split" in before.output
    assert json.loads((before.run_dir / "config.json").read_text())["config"][
        "teacher"] == "none"
    for name, value in weights(tmp_path / "plain").items():
        np.testing.assert_array_equal(value, weights(before.run_dir)[name])
    assert not all(np.array_equal(v, weights(tmp_path / "plain")[k])
                   for k, v in weights(taught.run_dir).items())


def test_own_data_trains_with_and_without_a_teacher(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "reviews.tsv"
    data.write_text("".join(f"{y}\t{t}\n" for t, y in tiny_corpus(80)))
    extra = tmp_path / "unlabelled.txt"  # two texts without a word: read, not used
    extra.write_text("".join(f"{t}\n" for t, _ in tiny_corpus(40, offset=300)) + "\n!!!\n")
    args = ["--epochs", "2", "--vocab-size", "30", "--max-len", "12", "--batch-size", "8",
            "--embed-dim", "8", "--units", "6"]
    result = invoke("train", "--data", data, "--unlabelled", extra, *args, "--run-dir", "a")
    assert result.exit_code == 0, result.output
    # 11 of the 40 texts with a word are validation texts (the tiny corpus repeats): left out
    assert ("Training on 64 reviews and 29 texts the teacher labelled (and 58 of their "
            "sentences)") in result.output
    note = json.loads((tmp_path / "a" / "config.json").read_text())["data"]["teacher"]
    assert note["source"] == f"the file {extra}" and note["unlabelled_texts"] == 42
    assert (note["unlabelled_used"], note["unlabelled_skipped"]) == (29, 0)
    assert note["unlabelled_sentences"] == 58  # each has two sentences, both taken
    assert note["unlabelled_in_validation"] == 11
    result = invoke("train", "--data", data, *args, "--run-dir", "b")
    assert result.exit_code == 0, result.output
    assert "No teacher: no unlabelled texts were given (--unlabelled FILE)" in result.output
    assert json.loads((tmp_path / "b" / "config.json").read_text())["config"]["teacher"] == "none"


def test_kept_words_that_do_not_fit_are_named(tiny_data_dir):
    """The tiny corpus has 15 of the everyday words; 8 slots hold the best-scored 8."""
    lines = []
    vocab, _, _ = prepare(TrainConfig(limit=60, vocab_size=10, max_len=12), tiny_data_dir,
                          echo=lines.append)
    assert len(vocab.kept_left_out) == 7 and set(vocab.words[2:]) <= set(TrainConfig().vocab_keep)
    assert [line for line in lines if "did not fit" in line] == [
        f"7 of the words to keep (--vocab-keep) did not fit in --vocab-size 10: "
        f"{', '.join(vocab.kept_left_out)}"]


@pytest.mark.parametrize("given, words", [
    (None, TrainConfig().vocab_keep), ("none", ()), ("", ()), ("good,bad", ("good", "bad")),
    (" good  bad, ugly ", ("good", "bad", "ugly"))])
def test_vocab_keep_reads_words_separated_by_commas_or_spaces(given, words):
    from sentiment_rnn.cli.options import _words

    assert _words(None, None, given) == words


@pytest.mark.parametrize("args, message", [
    (["--vocab-keep", "good,Bad"], "Invalid value for '--vocab-keep': 'Bad' is not one word"),
    (["--vocab-keep", "good good"], "Invalid value for '--vocab-keep': vocab_keep names a word"),
    (["--teacher-sentences", "-1"], "Invalid value for '--teacher-sentences': -1 is not in"),
    (["--unlabelled", "{x}"], "--unlabelled needs --data FILE"),
    (["--data", "{x}", "--unlabelled", "{x}", "--teacher", "none"], "--unlabelled is for the "
                                                                    "teacher"),
    (["--teacher", "bert"], "Invalid value for '--teacher'"),
    (["--ema-momentum", "1"], "Invalid value for '--ema-momentum'"),
    (["--ema-momentum", "nan"], "Invalid value for '--ema-momentum'"),
])
def test_bad_teacher_options_are_one_line_usage_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    x = tmp_path / "x.txt"
    x.write_text("1\tgood\n")
    result = invoke("train", *[a.format(x=x) for a in args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "models").exists()


def test_the_config_checks_teacher_settings():
    assert TrainConfig().ema == 0.99 and TrainConfig(teacher="none").ema == 0.0
    assert TrainConfig(teacher="none", ema_momentum=0.9).ema == 0.9
    # the vocabulary: df ** 0.75 with a teacher, sqrt without; a given value wins
    assert TrainConfig().df_power == 0.75 and TrainConfig(teacher="none").df_power == 0.5
    assert TrainConfig(teacher="none", vocab_df_power=1.0).df_power == 1.0
    for bad in ({"teacher": "x"}, {"ema_momentum": 1.0}, {"ema_momentum": True},
                {"vocab_df_power": -0.5}, {"vocab_df_power": float("nan")},
                {"unlabelled": "u.txt"}, {"data": "d.csv", "unlabelled": "u.txt", "teacher": "none"}):
        with pytest.raises(ConfigError):
            TrainConfig(**bad)


def test_accuracy_reads_soft_targets_as_sides_of_one_half():
    from sentiment_rnn.nn.keras_model import agreement

    got = agreement(np.array([1.0, 0.0, 0.8, 0.3, 0.6], np.float32),
                    np.array([[0.9], [0.2], [0.4], [0.1], [0.7]], np.float32))
    np.testing.assert_array_equal(np.asarray(got), [1, 1, 0, 1, 1])
    labels = agreement(np.array([1, 0, 1], np.int32), np.array([[0.9], [0.7], [0.2]], np.float32))
    np.testing.assert_array_equal(np.asarray(labels), [1, 0, 0])  # 0/1 ints work too


def test_kill_and_resume_with_a_teacher_reaches_the_same_weights(taught_run, teacher_data_dir,
                                                                 tiny_data_dir, tmp_path,
                                                                 monkeypatch):
    """Killed (SIGKILL, its own process) after epoch 3 of 8, then resumed: the weights of the
    uninterrupted session run `taught_run` (the same settings and data)."""
    run = tmp_path / "run"
    code, _ = start_and_interrupt([sys.executable, "-m", "sentiment_rnn", "train",
                                   *TINY_TRAIN_ARGS, "--run-dir", str(run), "--data-dir",
                                   str(teacher_data_dir)], run, signal.SIGKILL, tmp_path,
                                  after_epoch=3)
    assert code == -signal.SIGKILL
    assert not json.loads((run / "state.json").read_text())["completed"]
    assert all((run / name).exists() for name in UNLABELLED_FILES)  # kept for --resume
    ids = run / UNLABELLED_FILES[0]  # as a kill while they were being written would leave them
    np.save(ids, np.zeros_like(np.load(ids)))
    monkeypatch.chdir(tmp_path)
    # prepared again from other data (the same train split, but no unlabelled split): refused
    other = invoke("train", "--resume", run, "--data-dir", tiny_data_dir)
    assert other.exit_code == 1, other.output
    assert "ids-unlabelled.npy does not match prepared.json); preparing them again" in other.stdout
    assert other.stderr == (f"Error: {run}: the training data read now is not what the run "
                            f"started with (ids-unlabelled.npy, targets-unlabelled.npy differ); "
                            f"resume with the same data (--data-dir, and the same files)\n")
    assert not (run / "prepared.json").exists()  # nothing of the other data is kept
    done = invoke("train", "--resume", run, "--data-dir", teacher_data_dir)
    assert done.exit_code == 0, done.output
    assert "prepared.json is missing); preparing them again from the data" in done.stdout
    expected = weights(taught_run)
    assert sorted(weights(run)) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(weights(run)[name], value)


@pytest.mark.parametrize("text, expected", [
    ("Great cast. But the plot is thin.", "But the plot is thin."),
    ("Loved it!<br /><br />10/10", "10/10"),
    ("One sentence only", "One sentence only"),
    ("Bad. Really bad.  ...  ", "Really bad."),
    ("First part.\nSecond line here", "Second line here"),
    ("Fine. ?!", "Fine."),
    ("", ""),
])
def test_last_sentence(text, expected):
    assert last_sentence(text) == expected


def test_the_plain_tfidf_teacher_has_no_nb_scaling():
    train, val = tiny_corpus(60), tiny_corpus(20, offset=60)
    args = (lines(train), [y for _, y in train], lines(val), [y for _, y in val])
    plain, scaled = fit_teacher(*args, nb=False), fit_teacher(*args)
    assert (plain.ratios == 1).all() and not (scaled.ratios == 1).all()
    assert plain.describe()["kind"] == "TF-IDF of words and word pairs + logistic regression"
    assert scaled.describe()["kind"].startswith("NB-weighted TF-IDF")
    # a word seen only in positive texts gets a positive ratio, only in negative ones a negative
    index = scaled.vectorizer.vocabulary_
    assert scaled.ratios[index["wonderful"]] > 0 > scaled.ratios[index["awful"]]


def test_a_run_saved_before_the_teacher_reads_as_it_was_trained():
    old = {k: v for k, v in TrainConfig().to_dict().items()
           if k not in ("teacher", "ema_momentum", "vocab_df_power")}
    config = TrainConfig.from_dict(old)
    assert (config.teacher, config.ema, config.df_power) == ("none", 0.0, 0.5)
    new = TrainConfig.from_dict(TrainConfig().to_dict())
    assert (new.teacher, new.ema, new.df_power) == ("tfidf-nb", 0.99, 0.75)


def test_the_short_text_check_is_the_last_sentence_of_each_validation_review(tiny_data_dir):
    from sentiment_rnn.evaluation.short_texts import short_texts

    texts, labels = short_texts(TrainConfig(limit=60), tiny_data_dir)
    validation = tiny_corpus(60)[48:]  # the last 20% of the tiny train split
    assert labels.tolist() == [y for _, y in validation]
    assert texts == [last_sentence(t) for t, _ in validation]
    assert texts[0] == "terrible!"  # after the <br /><br /> of the first validation review


def test_standard_input_is_not_closed_by_reading_it(monkeypatch):
    import io

    from sentiment_rnn.files.streams import Source

    stdin = io.TextIOWrapper(io.BytesIO(b"one\ntwo\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    with Source("-") as source:
        assert [line for _, line in source] == ["one\n", "two\n"]
    assert not stdin.closed  # the caller's stream: a notebook may read it again


def test_stopped_before_the_first_epoch_leaves_no_run_folder(teacher_data_dir, tmp_path,
                                                              monkeypatch):
    from sentiment_rnn.training import epochs as training
    from sentiment_rnn.training import train as train_module

    class StoppedAtOnce(training.StopOnSignal):  # as a Ctrl-C during the first step would
        def __enter__(self):
            super().__enter__()
            self.stopped = True
            return self

    monkeypatch.setattr(training, "StopOnSignal", StoppedAtOnce)
    lines = []
    config = TrainConfig(limit=60, vocab_size=30, max_len=12, embed_dim=8, units=6,
                         batch_size=8)
    result = train_module.train(config, tmp_path / "models" / "run", teacher_data_dir,
                            models_dir=tmp_path / "models", echo=lines.append, verbose=0)
    assert (result.epochs_run, result.completed) == (0, False)
    assert lines[-1] == (f"Stopped before the first epoch finished; nothing to resume, so "
                         f"{tmp_path / 'models' / 'run'} is not kept")
    assert not (tmp_path / "models").exists()  # the prepared ids and the folders made for it


def test_resume_finishes_a_run_killed_between_its_last_state_and_its_clean_up(run_copy,
                                                                                tmp_path,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)  # the clean-up points models/latest here: a run in models/
    (tmp_path / "models").mkdir()
    run_copy = run_copy.rename(tmp_path / "models" / "run")
    (run_copy / "vectors.tsv").unlink()  # what the clean-up writes
    (run_copy / "ids-train.npy").write_bytes(b"left by the kill")
    (run_copy / "prepared.json").write_text("{}")
    result = invoke("train", "--resume", run_copy)
    assert result.exit_code == 0, result.output
    assert "Best epoch" in result.output and f"Saved to {run_copy}" in result.output
    assert (run_copy / "vectors.tsv").exists()
    assert (tmp_path / "models" / "latest").resolve() == run_copy.resolve()
    assert not (run_copy / "ids-train.npy").exists() and not (run_copy / "prepared.json").exists()
    again = invoke("train", "--resume", run_copy)  # now there is nothing left to do
    assert again.exit_code == 1 and "this run already finished; nothing to resume" in again.output
