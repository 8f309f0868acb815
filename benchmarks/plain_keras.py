"""The reference for epoch time: a plain Keras script of the same model, written the usual way.

TextVectorization inside a tf.data map (text is tokenized again every epoch), 1000-word
vocabulary, sequences of 200, batch 128, the same Embedding(1000, 32, mask) -> SimpleRNN(32) ->
Dense(1) on the same 20,000 / 5,000 train/validation reviews. Prints one JSON line with the time
of each epoch (the validation pass included, as in sentiment-rnn's own epoch times).

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/plain_keras.py [--epochs 3]
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

MAX_LEN, BATCH, VOCAB = 200, 128, 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(42)
    train = tfds.load("imdb_reviews", split="train[:80%]", as_supervised=True)
    val = tfds.load("imdb_reviews", split="train[80%:]", as_supervised=True)
    vectorize = tf.keras.layers.TextVectorization(max_tokens=VOCAB, output_sequence_length=MAX_LEN)
    vectorize.adapt(train.map(lambda text, label: text).batch(1024))

    def pipeline(ds, shuffle):
        if shuffle:
            ds = ds.shuffle(20_000, seed=42)
        return (ds.batch(BATCH).map(lambda text, label: (vectorize(text), label),
                                    num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(None,), dtype="int64"),
        tf.keras.layers.Embedding(VOCAB, 32, mask_zero=True),
        tf.keras.layers.SimpleRNN(32),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss="binary_crossentropy", metrics=["accuracy"])
    times = []

    class Timer(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(round(time.perf_counter() - self.start, 2))

    history = model.fit(pipeline(train, True), validation_data=pipeline(val, False),
                        epochs=args.epochs, verbose=0, callbacks=[Timer()])
    print(json.dumps({"epoch_seconds": times,
                      "val_accuracy": [round(v, 4) for v in history.history["val_accuracy"]]}))


if __name__ == "__main__":
    main()
