"""The Keras side of the backward-pass check: GradientTape through the run's own layers.

`logit_gradients` is what the NumPy backward pass of every cell (numpy_rnn, numpy_gru,
numpy_lstm) is checked against, in `inspect --check` and in the tests; `float64_twin` gives the
same layers in float64, so the comparison is not drowned in float32 rounding. Imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from sentiment_rnn import _tf


def float64_twin(model):
    """The same layers with the same weights, computing in float64: Keras' float32 arithmetic
    alone moves gradients 200 steps back by a relative 1e-4 to 1e-3, which would hide a wrong
    backward pass behind rounding."""
    keras = _tf.tensorflow().keras
    layers = [type(layer).from_config({**layer.get_config(), "dtype": "float64"})
              for layer in model.layers]
    twin = keras.Sequential([keras.Input(shape=(None,), dtype="int32"), *layers])
    twin.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return twin


def logit_gradients(model, ids: np.ndarray) -> np.ndarray:
    """d logit / d x_t for each row of (batch, time) ids, by TensorFlow's GradientTape through
    the model's own layers (x_t = the embedding's output; padding masked as in training): what
    the NumPy backward pass is checked against. Pass `float64_twin(model)` for exact digits."""
    tf = _tf.tensorflow()
    embedding, rnn, dense = (model.get_layer(n) for n in ("embedding", "rnn", "output"))
    ids = tf.constant(np.asarray(ids, dtype=np.int32))
    x = embedding(ids)
    with tf.GradientTape() as tape:
        tape.watch(x)
        h_last = rnn(x, mask=tf.not_equal(ids, 0))
        total = tf.reduce_sum(tf.matmul(h_last, dense.kernel) + dense.bias)  # rows independent
    return tape.gradient(total, x).numpy()
