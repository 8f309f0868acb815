"""The same model in plain Keras, fed two ways; one fresh process per variant, one JSON line out.

Both train Embedding(1000, 32, mask_zero) -> SimpleRNN(32) -> Dense(1, sigmoid), Adam 1e-3 with
clipnorm 1, batch 128, on the first 80% of the IMDB train split, validating on the rest (the split
sentiment-rnn uses). Epoch times run from Keras' on_epoch_begin to on_epoch_end, so they include the
validation pass, as sentiment-rnn's own epoch times do.

--variant same-ids (the pipeline alone): sentiment-rnn's own ids from `prepare` with the default
    TrainConfig (label-aware vocabulary, OOV dropped, last 200 ids, padded in front to 200), fed
    the usual way, `from_tensor_slices -> shuffle -> batch -> prefetch`, so every batch runs all
    200 (masked) steps. Model built by sentiment-rnn's build_model/compile_model, op determinism on,
    as in `sentiment-rnn train`; only the batching differs.
--variant tutorial (what a user would write): keras-io's text_classification_from_scratch.py way:
    TextVectorization (its custom standardization, 1000-entry frequency vocabulary, OOV kept as 1,
    first 200 tokens, output_sequence_length=200), adapt() on the training texts, the dataset
    vectorized once with map, then cache() and prefetch(); EarlyStopping on val_accuracy (patience
    2, best weights restored), then accuracy on the IMDB test split (reported only, never used to
    choose anything).

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/plain_keras.py --variant tutorial
"""

from __future__ import annotations

import argparse
import json
import os
import re
import string
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

from floor import bucketed_counts, id_counts, padded_counts  # noqa: E402  (benchmarks/)

MAX_LEN, BATCH, VOCAB, EMBED, UNITS = 200, 128, 1000, 32, 32
AUTOTUNE = tf.data.AUTOTUNE


class EpochTimer(tf.keras.callbacks.Callback):
    """Seconds of each epoch, training and validation pass together."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self.started, 3))


def same_ids(args) -> dict:
    """sentiment-rnn's ids through a plain tf.data pipeline: every batch padded to 200."""
    from sentiment_rnn.config import TrainConfig
    from sentiment_rnn.nn.keras_model import build_model, compile_model
    from sentiment_rnn.data.prepare import prepare

    config = TrainConfig(seed=args.seed, limit=args.limit, teacher="none")  # `train --teacher none`
    started = time.perf_counter()
    vocab, (x_train, y_train), (x_val, y_val) = prepare(config, None)
    x_train, x_val = x_train.astype(np.int32), x_val.astype(np.int32)  # stored as uint16
    y_train, y_val = y_train.astype(np.float32), y_val.astype(np.float32)  # as `train` feeds them
    prepare_s = time.perf_counter() - started
    config = config.replace(vocab_size=min(config.vocab_size, len(vocab)))
    tf.config.experimental.enable_op_determinism()  # as `sentiment-rnn train` runs
    tf.keras.utils.set_random_seed(args.seed)
    model = build_model(config)
    compile_model(model, config)
    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
             .shuffle(len(x_train), seed=args.seed).batch(BATCH).prefetch(AUTOTUNE))
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(BATCH).prefetch(AUTOTUNE)
    timer = EpochTimer()
    fit = model.fit(train, validation_data=val, epochs=args.epochs, verbose=0, callbacks=[timer])
    return {"variant": "same-ids", "epoch_seconds": timer.seconds, "prepare_seconds": prepare_s,
            "val_accuracy": fit.history["val_accuracy"],
            "ids_read": id_counts(x_train, x_val),
            "steps_computed": padded_counts(x_train, x_val, x_train.shape[1]),
            "steps_computed_sentiment_rnn": bucketed_counts(x_train, x_val, BATCH, args.seed)}


def custom_standardization(input_data):
    """keras-io text_classification_from_scratch.py: lower case, drop <br />, drop punctuation."""
    lowercase = tf.strings.lower(input_data)
    stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
    return tf.strings.regex_replace(stripped_html, f"[{re.escape(string.punctuation)}]", "")


def count_ids(dataset) -> tuple[int, int]:
    """Non-padding ids and reviews in a dataset of (ids, label) batches."""
    ids = reviews = 0
    for x, _ in dataset.as_numpy_iterator():
        ids, reviews = ids + int(np.count_nonzero(x)), reviews + len(x)
    return ids, reviews


def tutorial(args) -> dict:
    """TextVectorization + cache, early stopping, then the test split."""
    import tensorflow_datasets as tfds

    n = args.limit or 25_000
    cut = n - int(round(n * 0.2))  # sentiment-rnn's split: the last 20% validates
    raw_train = tfds.load("imdb_reviews", split=f"train[:{cut}]", as_supervised=True)
    raw_val = tfds.load("imdb_reviews", split=f"train[{cut}:{n}]", as_supervised=True)
    raw_test = tfds.load("imdb_reviews", split="test", as_supervised=True)
    tf.keras.utils.set_random_seed(args.seed)

    vectorize_layer = tf.keras.layers.TextVectorization(
        standardize=custom_standardization, max_tokens=VOCAB, output_mode="int",
        output_sequence_length=MAX_LEN)
    started = time.perf_counter()
    vectorize_layer.adapt(raw_train.map(lambda x, y: x).batch(1024))
    adapt_s = time.perf_counter() - started

    def vectorize_text(text, label):
        return vectorize_layer(tf.expand_dims(text, -1)), label

    # the tutorial's order: shuffled once, batched, vectorized by map, then cached (epoch 1
    # vectorizes; later epochs replay the cache, batches in the same order)
    train = raw_train.shuffle(cut, seed=args.seed).batch(BATCH).map(vectorize_text)
    train = train.cache().prefetch(AUTOTUNE)
    val = raw_val.batch(BATCH).map(vectorize_text).cache().prefetch(AUTOTUNE)
    test = raw_test.batch(BATCH).map(vectorize_text).prefetch(AUTOTUNE)

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(None,), dtype="int64"),
        tf.keras.layers.Embedding(VOCAB, EMBED, mask_zero=True),  # 0 = padding, masked
        tf.keras.layers.SimpleRNN(UNITS),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss="binary_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    stop = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2,
                                            restore_best_weights=True)
    fit = model.fit(train, validation_data=val, epochs=args.epochs, verbose=0,
                    callbacks=[timer, stop])
    best = int(np.argmax(fit.history["val_accuracy"])) + 1  # first best, as EarlyStopping keeps
    started = time.perf_counter()
    _, test_accuracy = model.evaluate(test, verbose=0)
    test_s = time.perf_counter() - started
    train_ids, train_reviews = count_ids(train)
    val_ids, val_reviews = count_ids(val)
    counts = {"train_ids": train_ids, "train_reviews": train_reviews,
              "val_ids": val_ids, "val_reviews": val_reviews}
    return {"variant": "tutorial", "epoch_seconds": timer.seconds, "adapt_seconds": adapt_s,
            "val_accuracy": fit.history["val_accuracy"], "best_epoch": best,
            "seconds_to_best": sum(timer.seconds[:best]), "test_accuracy": float(test_accuracy),
            "test_reviews": int(raw_test.cardinality()), "test_seconds": test_s, "ids_read": counts,
            "steps_computed": {**counts, "train_ids": MAX_LEN * train_reviews,
                               "val_ids": MAX_LEN * val_reviews}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["same-ids", "tutorial"], required=True)
    parser.add_argument("--epochs", type=int, default=5, help="most epochs")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, default=None, help="first N train reviews only")
    args = parser.parse_args()
    result = same_ids(args) if args.variant == "same-ids" else tutorial(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
