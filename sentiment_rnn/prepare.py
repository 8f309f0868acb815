"""Data preparation: IMDB train split -> training and validation parts -> vocabulary -> ids.

    texts (data.py) -> tokens (text.py) -> vocabulary from the training part only -> ids

The one place that splits the train split and builds the vocabulary, used by training, the
baselines and the benchmarks alike. The last `validation_fraction` of the train split is the
validation part (tfds' order is already shuffled); the test split is never read here.
"""

from __future__ import annotations

import numpy as np

from .config import TrainConfig
from .data import load_split
from .errors import ConfigError
from .text import Vocabulary, encode_tokens, tokenize


def split_train_validation(n: int, fraction: float) -> int:
    """Index where validation starts: the last `fraction` of n reviews, each part non-empty."""
    n_val = int(round(n * fraction))
    if n_val < 1 or n - n_val < 1:
        raise ConfigError(f"{n:,} training reviews cannot be split into a training and a "
                          f"validation part with validation fraction {fraction:g}; use more "
                          f"reviews or another fraction")
    return n - n_val


def train_validation_texts(config: TrainConfig, data_dir=None):
    """(texts, labels) of the training part and of the validation part of the train split."""
    texts, labels = load_split("train", data_dir, limit=config.limit)
    cut = split_train_validation(len(texts), config.validation_fraction)
    return (texts[:cut], labels[:cut]), (texts[cut:], labels[cut:])


def prepare(config: TrainConfig, data_dir=None, vocab: Vocabulary | None = None):
    """Load and tokenize the train split once; return the vocabulary (built from the training
    part unless given) and the (ids, labels) of the training and validation parts, each ids
    array (reviews, max_len) int32, padded in front."""
    (train_texts, train_labels), (val_texts, val_labels) = train_validation_texts(config, data_dir)
    texts, cut = train_texts + val_texts, len(train_texts)
    labels = np.concatenate([train_labels, val_labels])
    tokens = [tokenize(t) for t in texts]
    if vocab is None:
        vocab = Vocabulary.build(tokens[:cut], labels[:cut], config.vocab_size,
                                 config.vocab_method)
    # (reviews, max_len), made once: every epoch reads these ids
    x = encode_tokens(tokens, vocab, config.max_len, config.drop_oov, length=config.max_len)
    return vocab, (x[:cut], labels[:cut]), (x[cut:], labels[cut:])
