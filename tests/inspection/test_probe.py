"""The controlled memory probe (inspection/probe.py): the verdict sentences and neutral words
its rules pick, the exact texts it builds, and the accuracy it counts."""

import numpy as np
import pytest

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.inspection import probe
from sentiment_rnn.nn.numpy_rnn import NumpyRNN
from sentiment_rnn.text.vocabulary import Vocabulary, encode

WORDS = ["great", "awful", "movie", "film", "story", "plot", "the", "was", "not", "actor",
         "scene", "good"]
VOCAB = Vocabulary(["<pad>", "<oov>", *WORDS])


def test_sentences_split_at_line_breaks_and_sentence_ends():
    assert probe.sentences("One. Two!<br /><br />Three? four\nfive.") == \
        ["One.", "Two!", "Three?", "four", "five."]


@pytest.mark.parametrize("text, label, expected", [
    ("The plot was dull. The movie was great!", 1, "The movie was great!"),
    ("The movie was great!", 0, None),  # only the other side's word
    ("The movie was not great. Great film.", 1, "Great film."),  # a negation is skipped
    ("Great but awful.", 1, None),  # both sides
    ("zzz great", 1, "zzz great"),  # 1 word read (zzz is out of vocabulary, dropped)
    (" ".join(["movie"] * 25) + " great.", 1, None),  # 26 words read: too long
    (" ".join(["movie"] * 24) + " great.", 1, " ".join(["movie"] * 24) + " great."),
])
def test_the_verdict_sentence_is_the_first_that_holds_only_the_label_side(text, label, expected):
    assert probe.verdict_sentence(text, label, VOCAB, 200, True) == expected


def test_a_strong_word_outside_the_vocabulary_does_not_count():
    assert probe.verdict_sentence("A superb film.", 1, VOCAB, 200, True) is None


def test_neutral_words_are_frequent_non_stopwords_with_the_smallest_log_odds():
    texts = ["movie great plot", "movie awful plot", "film great actor", "film awful",
             "scene great", "scene great", "the story awful", "the great"]
    labels = [1, 0, 1, 0, 1, 1, 0, 1]
    found = probe.neutral_words(VOCAB, texts, labels, pool=3)
    n_pos, n_neg = 5, 3

    def lo(pos, neg):
        return np.log((pos + 1) / (n_pos + 1)) - np.log((neg + 1) / (n_neg + 1))

    # by hand: movie/plot/film 1 pos 1 neg; scene 2 pos; actor 1 pos; story 1 neg; "the",
    # great, awful never (stopword, strong words); words in no review have share 0 < 1%
    expected = sorted([(abs(lo(1, 1)), "film"), (abs(lo(1, 1)), "movie"),
                       (abs(lo(1, 1)), "plot"), (abs(lo(2, 0)), "scene"),
                       (abs(lo(1, 0)), "actor"), (abs(lo(0, 1)), "story")])[:3]
    assert [n["word"] for n in found] == [w for _, w in expected] == ["actor", "film", "movie"]
    assert found[1]["log_odds"] == pytest.approx(lo(1, 1), abs=1e-4)
    assert (found[0]["share"], found[1]["share"]) == (0.125, 0.25)


def test_the_filler_is_one_fixed_seeded_draw_and_the_texts_are_sentence_then_k_words():
    pool = ["movie", "film", "story", "plot"]
    words = probe.filler(pool, 150)
    picks = np.random.default_rng(0).integers(0, 4, size=150)
    assert words == [pool[i] for i in picks] and words == probe.filler(pool, 150)
    assert probe.probe_text("Great film!", words, 0) == "Great film!"
    assert probe.probe_text("Great film!", words, 3) == "Great film! " + " ".join(words[:3])


class LastWordIsPositive:
    """A stand-in model: P = 0.9 when the last id read is `great`'s, else 0.2."""

    def __init__(self):
        self.seen = []

    def predict_proba(self, ids):
        self.seen.append(ids)
        return np.where(ids[:, -1] == VOCAB.lookup(["great"])[0], 0.9, 0.2)


def row(k, accuracy, sentences, lowest=None, highest=None, positive=None, negative=None):
    return {"k": k, "accuracy": accuracy, "sentences": sentences,
            "lowest": accuracy if lowest is None else lowest,
            "highest": accuracy if highest is None else highest,
            "positive": positive, "negative": negative}


def test_probe_accuracy_reads_exactly_the_built_texts_and_counts_right():
    model = LastWordIsPositive()
    sentences = ["the movie was great", "plot great", "awful film", "the film was great"]
    labels = [1, 1, 0, 0]
    words = ["movie", "film", "movie", "story", "plot", "film"]
    result = probe.probe_accuracy(model, VOCAB, 8, True, sentences, labels, [words],
                                  ks=(0, 2, 5))
    assert result["rows"] == [
        row(0, 0.75, 4, positive=1.0, negative=0.5),  # all but the last are right
        row(2, 0.5, 4, positive=0.0, negative=1.0),  # filler last: all say negative
        row(5, 0.5, 2, positive=0.0, negative=1.0),  # 4 + 5 words do not fit in 8
    ]
    assert result["left_out"] == [5]
    expected = encode(["plot great movie film movie story plot", "awful film movie film movie "
                       "story plot"], VOCAB, 8, True, length=8)
    assert np.array_equal(model.seen[2], expected)


def test_the_accuracy_is_the_mean_over_filler_draws_with_the_lowest_and_highest():
    model = LastWordIsPositive()
    sentences, labels = ["plot great", "awful film"], [1, 0]
    draws = [["movie", "great"], ["movie", "film"]]  # the first ends on "great": positive
    result = probe.probe_accuracy(model, VOCAB, 8, True, sentences, labels, draws, ks=(0, 2))
    assert result["rows"] == [row(0, 1.0, 2, positive=1.0, negative=1.0),
                              row(2, 0.5, 2, lowest=0.5, highest=0.5, positive=0.5,
                                  negative=0.5)]
    assert len(model.seen) == 3  # k = 0 once, k = 2 once a draw


def test_a_last_word_model_is_right_on_the_sentence_alone_and_at_chance_after_filler():
    embedding = np.zeros((len(VOCAB), 1))
    embedding[VOCAB.lookup(["great", "awful"])] = [[3.0], [-3.0]]
    embedding[VOCAB.lookup(["movie", "film", "plot", "story"])] = 0.05  # a faint lean, no memory
    model = NumpyRNN(embedding, np.eye(1), np.array([[1e-3]]), np.zeros(1), np.array([[4.0]]),
                     np.zeros(1))
    texts = ["The plot was great.", "The movie was awful.", "Great!", "Awful plot, awful."]
    labels = np.array([1, 0, 1, 0])
    train = (["movie plot", "film story", "movie film", "plot story"], np.array([1, 0, 0, 1]))
    cfg = TrainConfig(max_len=40, vocab_size=30, embed_dim=1, units=1)
    report = probe.run_probe(model, VOCAB, cfg, texts, labels, *train, ks=(0, 5, 20))
    assert report["sentences"] == 4
    assert [r["accuracy"] for r in report["rows"]] == [1.0, 0.5, 0.5]
    assert report["draws"] == 5 and report["filler"] == probe.filler(
        [n["word"] for n in report["neutral_words"]], 20)[:20]
    assert {n["word"] for n in report["neutral_words"]} == {"movie", "film", "plot", "story"}
