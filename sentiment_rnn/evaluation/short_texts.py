"""The short-text check: validation reviews -> their last sentence, with the review's label.

    validation part (prepare.py's split) -> last sentence of each review -> texts, labels

A model chosen on whole reviews can still misread "Good movie." or "I hated this film.": the
texts people type are short. The last sentence of a review usually sums it up, so with the
review's label it makes a short-text test set that is noisy (some endings are neutral or say
the opposite) but honest, and drawn from the validation part only: no test review is read.
`examples/reviews.csv` (a dozen short reviews written for this project) is the second check.
"""

from __future__ import annotations

import numpy as np

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.text.sentences import last_sentence

def short_texts(config: TrainConfig, data_dir=None) -> tuple[list[str], np.ndarray]:
    """The last sentence of every validation review (as `config` splits the data) that has
    one, and the review's label."""
    from sentiment_rnn.data.prepare import labelled_texts

    _, (texts, labels) = labelled_texts(config, data_dir)
    pairs = [(last_sentence(t), y) for t, y in zip(texts, labels)]
    pairs = [(s, y) for s, y in pairs if s]
    return [s for s, _ in pairs], np.array([y for _, y in pairs], dtype=np.int32)
