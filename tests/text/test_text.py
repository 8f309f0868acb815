"""text.py: the one tokenizer, the vocabulary and the ids the model reads."""

import numpy as np
import pytest

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.vocab_file import load_vocabulary
from sentiment_rnn.text.tokenizer import standardize, tokenize
from sentiment_rnn.text.vocabulary import OOV, Vocabulary, encode, pad, to_ids


def test_standardize_lowercases_and_strips_markup_and_punctuation():
    assert standardize("Great<br /><br />MOVIE!!") == "great  movie  "
    assert tokenize("It wasn't bad... (really)") == ["it", "wasnt", "bad", "really"]
    assert tokenize("Don\u2019t  go_away\tnow") == ["dont", "go", "away", "now"]


def test_tokenize_keeps_accents_and_other_scripts():
    assert tokenize("Café crème, très BIEN") == ["café", "crème", "très", "bien"]
    assert tokenize("素晴らしい 映画 😀!") == ["素晴らしい", "映画"]
    assert tokenize("   \n\t ") == []


def test_frequency_vocabulary_orders_by_count_then_word():
    docs = [["b", "a", "a"], ["c", "b", "a"]]
    vocab = Vocabulary.build(docs, None, size=4, method="frequency")
    assert vocab.words == ["<pad>", "<oov>", "a", "b"]


def test_label_aware_vocabulary_prefers_words_that_separate_the_labels():
    docs = [["the", "good"], ["the", "good"], ["the", "bad"], ["the", "bad"], ["the", "meh"]]
    labels = [1, 1, 0, 0, 0]
    vocab = Vocabulary.build(docs, labels, size=4, method="label-aware")
    assert vocab.words == ["<pad>", "<oov>", "good", "bad"]


def test_the_df_power_lets_frequent_telling_words_beat_rare_sharp_ones():
    # 20 negative and 20 positive texts. "not": 10 negative, 5 positive (|log-odds| 0.61, in
    # 15 texts); "dire": 3 negative only (|log-odds| 1.39, in 3). sqrt: 2.35 < 2.40, so "dire"
    # is chosen; to the power 0.75: 4.62 > 3.16, so "not" is
    neg = [["the"] + (["not"] if i < 10 else []) + (["dire"] if i < 3 else []) for i in range(20)]
    pos = [["the"] + (["not"] if i < 5 else []) for i in range(20)]
    docs, labels = neg + pos, [0] * 20 + [1] * 20
    assert Vocabulary.build(docs, labels, size=3, df_power=0.5).words[2] == "dire"
    assert Vocabulary.build(docs, labels, size=3, df_power=0.75).words[2] == "not"
    assert Vocabulary.build(docs, labels, size=3).words[2] == "not"  # the default: 0.75


def test_kept_words_are_in_whatever_their_score_if_the_training_part_has_them():
    # "good" is in one positive and one negative text: ranked after "awful" and "fine"
    docs = [["good", "fine"], ["good", "awful"], ["fine"], ["awful"], ["awful", "meh"]]
    labels = [1, 0, 1, 0, 0]
    assert Vocabulary.build(docs, labels, size=4).words == ["<pad>", "<oov>", "awful", "fine"]
    kept = Vocabulary.build(docs, labels, size=4, keep=("good", "never"))  # never: not seen
    assert kept.words == ["<pad>", "<oov>", "awful", "good"]  # in score order
    assert Vocabulary.build(docs, labels, size=4, method="frequency",
                            keep=("meh",)).words == ["<pad>", "<oov>", "awful", "meh"]
    # more kept words than room: the best-scored of them, and the others named
    small = Vocabulary.build(docs, labels, size=3, keep=("good", "fine", "never"))
    assert small.words == ["<pad>", "<oov>", "fine"] and small.kept_left_out == ["good"]
    assert kept.kept_left_out == []


def test_to_ids_drops_or_keeps_oov_and_keeps_the_last_tokens():
    vocab = Vocabulary(["<pad>", "<oov>", "good", "bad"])
    tokens = ["so", "good", "not", "bad", "good"]
    assert to_ids(tokens, vocab, max_len=10, drop_oov=False) == [OOV, 2, OOV, 3, 2]
    assert to_ids(tokens, vocab, max_len=10, drop_oov=True) == [2, 3, 2]
    assert to_ids(tokens, vocab, max_len=2, drop_oov=True) == [3, 2]


def test_pad_puts_zeros_in_front():
    out = pad([[5, 6, 7], [8], []], length=4)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 5, 6, 7], [0, 0, 0, 8], [0, 0, 0, 0]]
    assert pad([[1, 2], [3]]).tolist() == [[1, 2], [0, 3]]


def test_encode_runs_the_whole_text_to_ids_step():
    vocab = Vocabulary(["<pad>", "<oov>", "good", "bad"])
    assert encode(["Good, good!", "BAD<br />movie"], vocab, 5, True).tolist() == [[2, 2], [0, 3]]


def test_vocabulary_round_trips_through_its_file(tmp_path):
    vocab = Vocabulary(["<pad>", "<oov>", "café", "good"])
    path = tmp_path / "vocab.txt"
    path.write_text(vocab.text(), encoding="utf-8")
    assert path.read_text(encoding="utf-8") == "<pad>\n<oov>\ncafé\ngood\n"
    loaded = load_vocabulary(path)
    assert loaded.words == vocab.words
    assert loaded.sha256() == vocab.sha256()


@pytest.mark.parametrize("content, message", [
    ("<pad>\n<oov>\ngood\ngood\n", "no duplicate words"),
    ("good\nbad\n", "starts with"),
    ("<pad>\n<oov>\ntwo words\n", "line 3 is not a single word"),
])
def test_bad_vocabulary_files_are_refused(tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RunFolderError, match=message):
        load_vocabulary(path)


@pytest.mark.parametrize("text", ["One. Two!<br /><br />Three? four\nfive.", "?! ... . Ok.",
                                  "No end", "", "A.B. c . d"])
def test_sentence_tokens_are_each_sentences_tokens(text):
    from sentiment_rnn.text.sentences import sentence_tokens, sentences

    assert sentence_tokens(text) == [tokenize(s) for s in sentences(text)]
