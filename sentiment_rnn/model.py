"""ids -> probability in Keras: Embedding -> SimpleRNN -> Dense(sigmoid), and its weights by name.

`compile_model` gives the training setup: Adam, clipping, the weight average, and accuracy
that also reads soft targets (`agreement`).

`weight_arrays` is the one place weights leave Keras: training writes its output as `weights.npz`
and the NumPy forward pass (`numpy_rnn.py`) reads exactly those names and shapes.
"""

from __future__ import annotations

import numpy as np

from . import quiet
from .batching import lengths, sorted_batches, trim
from .config import TrainConfig


def build_model(config: TrainConfig):
    """The seed notebook's model; 34,113 parameters at the defaults (1000 words, 32, 32).

    Every random start is seeded from config.seed in the layer itself (initializers, the
    dropout seed generator), so building the model changes no process-wide random state."""
    tf = quiet.tensorflow()
    keras = tf.keras
    seed = int(np.random.default_rng([config.seed, 2]).integers(0, 2**31 - 1))
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32", name="ids"),  # (batch, time)
            # (batch, time, embed_dim); id 0 is padding and is masked, so the RNN skips it
            keras.layers.Embedding(
                config.vocab_size, config.embed_dim, mask_zero=True, name="embedding",
                embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed)),
            # h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h); returns h_T, (batch, units)
            keras.layers.SimpleRNN(
                config.units, dropout=config.dropout, recurrent_dropout=config.recurrent_dropout,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 2),
                seed=seed + 3, name="rnn"),
            # P(positive) = sigmoid(h_T W_hy + b_y), (batch, 1)
            keras.layers.Dense(1, activation="sigmoid", name="output",
                               kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 4)),
        ],
        name="sentiment_rnn",
    )
    return model


def agreement(y_true, y_pred):
    """Accuracy for soft targets: a row counts as right when the model and its target are on
    the same side of 0.5 (for 0/1 labels, plain accuracy; for a teacher's P(positive), whether
    the RNN agrees with the teacher)."""
    ops = quiet.tensorflow().keras.ops
    y_true = ops.reshape(ops.cast(y_true, "float32"), (-1,))  # 0/1 labels may come as ints
    y_pred = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
    return ops.cast(ops.equal(y_true > 0.5, y_pred > 0.5), "float32")


def custom_objects() -> dict:
    """What loading a training checkpoint (compiled, safe_mode on) needs besides Keras."""
    return {"agreement": agreement}


def compile_model(model, config: TrainConfig) -> None:
    """Adam with clipping; with config.ema > 0 it also keeps an exponential moving average of
    the weights (Keras' use_ema), which is what is validated and saved
    (`epochs.average_weights`)."""
    tf = quiet.tensorflow()
    ema = config.ema
    optimizer = tf.keras.optimizers.Adam(learning_rate=config.learning_rate,
                                         clipnorm=config.clipnorm, use_ema=ema > 0,
                                         ema_momentum=ema if ema > 0 else 0.99)
    accuracy = tf.keras.metrics.MeanMetricWrapper(agreement, name="accuracy")
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=[accuracy])


def weight_arrays(model) -> dict[str, np.ndarray]:
    """The trained weights under the names of the RNN equations, read by Keras layer name."""
    rnn = model.get_layer("rnn").cell
    dense = model.get_layer("output")
    return {
        "embedding": model.get_layer("embedding").embeddings.numpy(),  # (vocab, embed_dim)
        "W_xh": rnn.kernel.numpy(),  # (embed_dim, units)
        "W_hh": rnn.recurrent_kernel.numpy(),  # (units, units)
        "b_h": rnn.bias.numpy(),  # (units,)
        "W_hy": dense.kernel.numpy(),  # (units, 1)
        "b_y": dense.bias.numpy(),  # (1,)
    }


def _compiled(model):
    """The model's forward pass as one tf.function over (batch, time) int32 ids, traced once:
    an eager call would step the RNN's while-loop from Python, several times slower."""
    call = getattr(model, "_sentiment_rnn_call", None)
    if call is None:
        tf = quiet.tensorflow()
        call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                           input_signature=[tf.TensorSpec((None, None), tf.int32)])
        model._sentiment_rnn_call = call
    return call


def predict_proba(model, ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """P(positive) for a (batch, time) id array, as a (batch,) float array."""
    call = _compiled(model)
    out = np.empty(len(ids))
    for rows in sorted_batches(lengths(ids), batch_size):  # padding is masked anyway
        out[rows] = call(np.ascontiguousarray(trim(ids[rows]), dtype=np.int32)).numpy().reshape(-1)
    return out
