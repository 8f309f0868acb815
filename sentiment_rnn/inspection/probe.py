"""The controlled memory probe: a verdict sentence, then k neutral words; is the verdict kept?

    validation reviews -> their verdict sentences  \\
    training part -> the neutral words -> a filler  > sentence + k filler words -> P -> accuracy

A reading of gradients can be fooled; this cannot. For k = 0, 5, 10, 20, 50, 100, 150 the model
reads a sentence that holds a review's verdict followed by k words that carry no sentiment, and
its accuracy against the review's label is counted. A model that keeps the verdict stays
accurate as k grows; one that forgets falls towards chance.

The verdict sentence of a validation review (label y): split the review into sentences (after
. ! ? and a space, and at line breaks), and take the first sentence that
  - the model reads as 1 to 25 words (MAX_SENTENCE),
  - holds a word of y's side of the fixed lists STRONG (read by the model: in its vocabulary),
  - holds no word of the other side, and no word of NEGATIONS (negations and "but", "though",
    which can turn a sentence around).
At most one sentence a review. The model is not asked: the choice uses the review's label and
fixed word lists only.

The neutral words, from the run's vocabulary and the training part only (no validation or test
text): every vocabulary word in at least 1% of the training reviews that is not in STOPWORDS,
STRONG or NEGATIONS; for each, the smoothed log-odds of a positive label among the reviews that
hold it, log((pos + 1) / (n_pos + 1)) - log((neg + 1) / (n_neg + 1)) (pos, neg: the positive
and negative training reviews holding the word; n_pos, n_neg: all of them); the POOL words with
the smallest |log-odds| (ties by the word). A filler is a draw of max(k) words from the pool,
with replacement, by numpy's default_rng(seed); every sentence is followed by its first k words.
There are DRAWS fillers (seeds 0 to 4), and the accuracy at k is their mean, reported with the
lowest and highest draw and the accuracy on the positive and the negative sentences apart: words
neutral in the training labels need not be neutral to the model, and a draw that leans one way
flips the sentences of the other side. A sentence and k words that do not fit in max_len are not read whole (the model
reads the last max_len words), so that pair is left out and counted.
"""

from __future__ import annotations

import numpy as np

from sentiment_rnn.text.sentences import sentences
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import OOV, RESERVED, encode, to_ids

PROBE_K = (0, 5, 10, 20, 50, 100, 150)
MAX_SENTENCE = 25  # words read
MIN_SHARE = 0.01  # of the training reviews a neutral word must appear in
POOL = 50
SEED = 0
DRAWS = 5  # filler draws, seeds SEED .. SEED + DRAWS - 1: one draw's words can lean one way
STRONG = {
    1: ("excellent", "wonderful", "superb", "brilliant", "outstanding", "masterpiece", "perfect",
        "amazing", "fantastic", "great", "loved", "best", "beautiful", "fun", "enjoyed",
        "terrific", "favorite", "recommend"),
    0: ("awful", "terrible", "worst", "horrible", "waste", "boring", "bad", "poor", "stupid",
        "dull", "pathetic", "worse", "lame", "disappointing", "mess", "crap", "avoid",
        "ridiculous"),
}
NEGATIONS = ("not", "no", "never", "nothing", "nor", "neither", "without", "hardly", "dont",
             "didnt", "doesnt", "isnt", "wasnt", "arent", "werent", "cant", "couldnt", "wont",
             "wouldnt", "shouldnt", "but", "although", "though", "however", "yet")
STOPWORDS = ("the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by",
             "from", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that",
             "these", "those", "he", "she", "they", "we", "i", "you", "his", "her", "their",
             "as", "so", "then", "there", "here", "has", "have", "had")
def words_read(tokens: list[str], vocab, drop_oov: bool) -> int:
    """How many of the tokens the model reads (out-of-vocabulary ones dropped or kept), before
    any max_len cut."""
    return len(to_ids(tokens, vocab, len(tokens) + 1, drop_oov))


def verdict_sentence(text: str, label: int, vocab, max_len: int, drop_oov: bool) -> str | None:
    """The review's first sentence that holds its verdict (the module's rule), or None."""
    own, other = set(STRONG[int(label)]), set(STRONG[1 - int(label)])
    negations = set(NEGATIONS)
    for sentence in sentences(text):
        tokens = tokenize(sentence)
        if not 1 <= words_read(tokens, vocab, drop_oov) <= min(MAX_SENTENCE, max_len):
            continue
        words = set(tokens)
        known = {w for w in words & own if vocab.lookup([w])[0] != OOV}
        if known and not words & other and not words & negations:
            return sentence
    return None


def neutral_words(vocab, train_texts, train_labels, pool: int = POOL) -> list[dict]:
    """The POOL vocabulary words nearest to no sentiment in the training part (the module's
    rule), each with its log-odds and the share of training reviews holding it."""
    labels = np.asarray(train_labels)
    words = vocab.words[len(RESERVED):]
    index = {w: i for i, w in enumerate(words)}
    pos, neg = np.zeros(len(words)), np.zeros(len(words))
    for text, y in zip(train_texts, labels):
        rows = [index[w] for w in set(tokenize(text)) if w in index]
        (pos if y == 1 else neg)[rows] += 1
    n_pos, n_neg = int((labels == 1).sum()), int((labels == 0).sum())
    log_odds = np.log((pos + 1) / (n_pos + 1)) - np.log((neg + 1) / (n_neg + 1))
    share = (pos + neg) / max(len(labels), 1)
    banned = set(STOPWORDS) | set(NEGATIONS) | set(STRONG[0]) | set(STRONG[1])
    found = sorted((abs(log_odds[i]), w) for w, i in index.items()
                   if share[i] >= MIN_SHARE and w not in banned)
    return [{"word": w, "log_odds": round(float(log_odds[index[w]]), 4),
             "share": round(float(share[index[w]]), 4)} for _, w in found[:pool]]


def filler(pool: list[str], length: int, seed: int = SEED) -> list[str]:
    """One fixed draw of `length` words from the pool, with replacement."""
    if not pool or length <= 0:
        return []
    picks = np.random.default_rng(seed).integers(0, len(pool), size=length)
    return [pool[i] for i in picks]


def probe_text(sentence: str, words: list[str], k: int) -> str:
    """The sentence followed by the first k filler words, a space between."""
    return " ".join([sentence, *words[:k]])


def _mean(values) -> float | None:
    return float(np.mean(values)) if len(values) else None


def probe_accuracy(model, vocab, max_len: int, drop_oov: bool, sentences_: list[str],
                   labels, fillers: list[list[str]], ks=PROBE_K) -> dict:
    """For each k: accuracy (P >= 0.5 is positive) against `labels` of sentence + k filler
    words, over the sentences whose words and the k fit in max_len: the mean over the filler
    draws (`fillers`), their lowest and highest, the mean on the positive and on the negative
    sentences; and how many sentences fit."""
    labels = np.asarray(labels)
    read = np.array([words_read(tokenize(s), vocab, drop_oov) for s in sentences_], dtype=int)
    rows = []
    for k in ks:
        usable = [f for f in fillers if k <= len(f)][:1 if k == 0 else None]
        fits = np.flatnonzero(read + k <= max_len) if usable else np.array([], int)
        row = {"k": k, "accuracy": None, "lowest": None, "highest": None, "positive": None,
               "negative": None, "sentences": int(len(fits))}
        if len(fits):
            correct = np.array([
                (model.predict_proba(encode([probe_text(sentences_[i], f, k) for i in fits],
                                            vocab, max_len, drop_oov, length=max_len)) >= 0.5)
                .astype(int) == labels[fits] for f in usable])  # (draws, sentences)
            per_draw = correct.mean(axis=1)
            row.update(accuracy=float(per_draw.mean()), lowest=float(per_draw.min()),
                       highest=float(per_draw.max()),
                       positive=_mean(correct[:, labels[fits] == 1].ravel()),
                       negative=_mean(correct[:, labels[fits] == 0].ravel()))
        rows.append(row)
    return {"rows": rows, "left_out": [r["k"] for r in rows if r["sentences"] < len(sentences_)]}


def run_probe(model, vocab, config, texts, labels, train_texts, train_labels,
              ks=PROBE_K) -> dict:
    """The whole probe on validation reviews (`texts`, `labels`) and the training part."""
    found = [(s, int(y)) for s, y in ((verdict_sentence(t, y, vocab, config.max_len,
                                                         config.drop_oov), y)
                                       for t, y in zip(texts, labels)) if s is not None]
    neutral = neutral_words(vocab, train_texts, train_labels)
    pool = [n["word"] for n in neutral]
    fillers = [filler(pool, max(ks, default=0), SEED + d) for d in range(DRAWS)]
    picked = [s for s, _ in found]
    result = probe_accuracy(model, vocab, config.max_len, config.drop_oov, picked,
                            [y for _, y in found], fillers, ks)
    return {"sentences": len(found), "of_reviews": len(texts),
            "positive_share": round(float(np.mean([y for _, y in found])), 4) if found else None,
            **result, "neutral_words": neutral, "draws": DRAWS, "seeds": [SEED, SEED + DRAWS - 1],
            "filler": fillers[0][:20], "examples": picked[:3]}
