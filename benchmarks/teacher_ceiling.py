"""How far distillation can go: the teacher itself, and the teacher limited to a vocabulary, on
the short-text checks (docs/levers.md, "The teacher's ceiling").

    training part -> the teacher (TF-IDF of words and word pairs + logistic regression, NB-scaled)
      -> its accuracy on the validation part and the short-text checks
    the same teacher reading only a 1000-word vocabulary's words -> the ceiling of an RNN that
      reads those words (a bag of words and pairs, each vocabulary as the project builds it)

Nothing here chooses anything for training; the IMDB test split is never read. A text the
model cannot read counts as wrong for the RNN; the teacher always answers (its intercept).

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/teacher_ceiling.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import snippets  # noqa: E402  benchmarks/snippets.py
from levers import EXAMPLES, accuracy  # noqa: E402

from sentiment_rnn.config import TrainConfig  # noqa: E402
from sentiment_rnn.data.prepare import labelled_texts  # noqa: E402
from sentiment_rnn.data.teacher import fit_teacher  # noqa: E402
from sentiment_rnn.evaluation.short_texts import short_texts  # noqa: E402
from sentiment_rnn.files.readers import read_labelled  # noqa: E402
from sentiment_rnn.text.sentences import sentences  # noqa: E402
from sentiment_rnn.text.tokenizer import tokenize  # noqa: E402
from sentiment_rnn.text.vocabulary import Vocabulary  # noqa: E402


def checks() -> dict:
    out = {"short texts": short_texts(TrainConfig())}
    for name in ("negation", "contrast"):
        found = read_labelled(EXAMPLES / f"{name}.csv")
        out[name] = (found.texts, np.asarray(found.labels))
    out.update(snippets.load())
    return out


def score(name: str, train_lines, y_train, read, sets, val) -> None:
    started = time.perf_counter()
    teacher = fit_teacher(train_lines, y_train)
    row = {k: round(accuracy(teacher.predict([read(t) for t in texts]), ys), 4)
           for k, (texts, ys) in {"validation": val, **sets}.items()}
    print(json.dumps({"teacher": name, "c": teacher.c, **row,
                      "seconds": round(time.perf_counter() - started, 1)}), flush=True)


def main() -> None:
    (train, y), val = labelled_texts(TrainConfig())
    sets = checks()
    tokens = [tokenize(t) for t in train]

    def line(text):
        return " ".join(tokenize(text))

    score("the teacher (all words)", [" ".join(t) for t in tokens], y, line, sets, val)
    last = [(line(s[-1]), label) for t, label in zip(train, y) if len(s := sentences(t)) > 1]
    score("the teacher, also fitted on the last sentence of each training review",
          [" ".join(t) for t in tokens] + [s for s, _ in last],
          np.concatenate([y, [label for _, label in last]]), line, sets, val)
    keep = TrainConfig().vocab_keep
    sentence_docs = [(tokenize(s), label) for t, label in zip(train, y) for s in sentences(t)]
    vocabularies = {
        "label-aware, df^0.75 (0.4.0)": Vocabulary.build(tokens, y, 1000),
        "label-aware, df^0.75, everyday words kept": Vocabulary.build(tokens, y, 1000, keep=keep),
        "pair-aware, df^0.75, everyday words kept": Vocabulary.build(
            tokens, y, 1000, method="pair-aware", keep=keep),
        "label-aware over sentences, df^1, everyday words kept": Vocabulary.build(
            [d for d, _ in sentence_docs], [label for _, label in sentence_docs], 1000,
            df_power=1.0, keep=keep),
    }
    for name, vocab in vocabularies.items():
        words = set(vocab.words)

        def read(text, words=words):
            return " ".join(w for w in tokenize(text) if w in words)

        score(f"the teacher reading only the vocabulary: {name}",
              [" ".join(w for w in t if w in words) for t in tokens], y, read, sets, val)


if __name__ == "__main__":
    main()
