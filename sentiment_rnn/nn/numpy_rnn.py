"""ids -> probability in NumPy alone: the seed notebook's loop on the trained weights, and back.

    forward   h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)     x_t = embedding[id_t], h_0 = 0
              logit = h_T W_hy + b_y                         P(positive) = sigmoid(logit)
    backward  g_T = d logit / d h_T = W_hy
              a_t = x_t W_xh + h_{t-1} W_hh + b_h, so d logit / d a_t = g_t * (1 - h_t^2)
              d logit / d x_t = (d logit / d a_t) W_xh^T    g_{t-1} = (d logit / d a_t) W_hh^T

Padding (id 0) is skipped, as Keras' mask does: h_t = h_{t-1} at a padded step. Vectorized over
a batch; can return every hidden state h_t. Never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_rnn.files.weights import NAMES
from sentiment_rnn.nn.numpy_base import NumpyReadout, sigmoid

__all__ = ["NAMES", "NumpyRNN", "sigmoid"]


@dataclass
class NumpyRNN(NumpyReadout):
    """The trained network as six NumPy arrays (files/weights.py reads them), and its forward
    pass. The names are the seed notebook's; keras_model.weight_arrays maps Keras' onto them.
    Loading, the output layer and batching are numpy_base's, shared with the gated cells."""

    CELL = "simple"
    embedding: np.ndarray  # (vocab, embed_dim)
    W_xh: np.ndarray  # (embed_dim, units)
    W_hh: np.ndarray  # (units, units)
    b_h: np.ndarray  # (units,)
    W_hy: np.ndarray  # (units, 1)
    b_y: np.ndarray  # (1,)

    def hidden_states(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Every hidden state: (batch, time) ids -> (batch, time, units) h_t.

        The seed notebook's loop, for a whole batch at once. x_t W_xh + b_h does not depend on
        h, so it is computed for every step before the loop; the loop adds h_{t-1} W_hh."""
        ids, x = self.inputs(ids, x)
        batch, steps = ids.shape
        units = self.W_hh.shape[0]
        with np.errstate(all="ignore"):  # callers check that the result is finite
            x_part = x @ self.W_xh + self.b_h  # (batch, time, units)
            h = np.zeros((batch, units))  # h_0 = 0
            states = np.empty((batch, steps, units))
            for t in range(steps):
                h_t = np.tanh(x_part[:, t] + h @ self.W_hh)
                reads = (ids[:, t] != 0)[:, None]  # padding (id 0) is skipped: h_t = h_{t-1}
                h = np.where(reads, h_t, h)
                states[:, t] = h
        return states

    def gradients(self, ids: np.ndarray, x: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Backpropagation through time: the forward loop's mirror, from the output back to the
        first word. (batch, time) ids -> d logit / d x_t, (batch, time, embed_dim), and
        d logit / d h_t, (batch, time, units), for every step; zero for x_t at padding, where
        h_t = h_{t-1} passes the gradient back unchanged. `x`: as in `inputs`."""
        ids = np.atleast_2d(np.asarray(ids))
        states = self.hidden_states(ids, x)  # h_1 .. h_T
        batch, steps, units = states.shape
        d_x = np.zeros((batch, steps, self.W_xh.shape[0]))
        d_h = np.zeros((batch, steps, units))
        g = np.repeat(self.W_hy[:, 0][None], batch, axis=0)  # d logit / d h_T
        with np.errstate(all="ignore"):  # callers check that the result is finite
            for t in reversed(range(steps)):
                d_h[:, t] = g
                reads = (ids[:, t] != 0)[:, None]
                d_a = g * (1.0 - states[:, t] ** 2)  # back through tanh
                d_x[:, t] = np.where(reads, d_a @ self.W_xh.T, 0.0)
                g = np.where(reads, d_a @ self.W_hh.T, g)  # to h_{t-1}
        return d_x, d_h
