"""ids -> probability in NumPy with an LSTM cell (Hochreiter & Schmidhuber, 1997), as Keras
computes it, and back.

    forward   i_t = sigmoid(x_t W_xi + h_{t-1} W_hi + b_i)     input gate
              f_t = sigmoid(x_t W_xf + h_{t-1} W_hf + b_f)     forget gate
              g_t = tanh(x_t W_xg + h_{t-1} W_hg + b_g)        candidate
              o_t = sigmoid(x_t W_xo + h_{t-1} W_ho + b_o)     output gate
              c_t = f_t * c_{t-1} + i_t * g_t                  the cell state, the memory
              h_t = o_t * tanh(c_t)
    backward  two gradients flow back: g_h = d logit / d h_t and g_c = d logit / d c_t;
              c_t's total is g_c + g_h o_t (1 - tanh(c_t)^2), and to c_{t-1} it is multiplied
              by f_t alone: the forget gate is what lets a gradient travel far.

Keras keeps the four gates side by side in one kernel in the order i, f, c (our g), o;
keras_model.weight_arrays splits them by these names. Padding (id 0) is skipped: h and c carry
over. Never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_rnn.nn.numpy_base import NumpyReadout, sigmoid


@dataclass
class NumpyLSTM(NumpyReadout):
    """A trained LSTM network as NumPy arrays (files/weights.py reads them): per gate an input
    matrix W_x* (embed_dim, units), a recurrent matrix W_h* (units, units) and a bias."""

    CELL = "lstm"
    embedding: np.ndarray
    W_xi: np.ndarray
    W_hi: np.ndarray
    b_i: np.ndarray
    W_xf: np.ndarray
    W_hf: np.ndarray
    b_f: np.ndarray
    W_xg: np.ndarray
    W_hg: np.ndarray
    b_g: np.ndarray
    W_xo: np.ndarray
    W_ho: np.ndarray
    b_o: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    def _steps(self, ids: np.ndarray, x: np.ndarray | None):
        """The forward loop, keeping per step h_t, c_t and the gates i, f, g, o."""
        ids, x = self.inputs(ids, x)
        batch, steps = ids.shape
        keep = {k: np.zeros((batch, steps, self.units)) for k in "hcifgo"}
        with np.errstate(all="ignore"):  # callers check that the result is finite
            xi, xf, xg, xo = (x @ getattr(self, f"W_x{k}") + getattr(self, f"b_{k}")
                              for k in "ifgo")  # the input's part of each gate, every step
            h = np.zeros((batch, self.units))  # h_0 = 0
            c = np.zeros((batch, self.units))  # c_0 = 0
            for t in range(steps):
                i = sigmoid(xi[:, t] + h @ self.W_hi)
                f = sigmoid(xf[:, t] + h @ self.W_hf)
                g = np.tanh(xg[:, t] + h @ self.W_hg)
                o = sigmoid(xo[:, t] + h @ self.W_ho)
                reads = (ids[:, t] != 0)[:, None]  # padding: h and c carry over
                c = np.where(reads, f * c + i * g, c)
                h = np.where(reads, o * np.tanh(c), h)
                for name, value in zip("hcifgo", (h, c, i, f, g, o)):
                    keep[name][:, t] = value
        return ids, keep

    def hidden_states(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Every hidden state: (batch, time) ids -> (batch, time, units) h_t."""
        return self._steps(ids, x)[1]["h"]

    def cell_states(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Every cell state: (batch, time) ids -> (batch, time, units) c_t."""
        return self._steps(ids, x)[1]["c"]

    def states(self, ids: np.ndarray, x: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Every h_t and every c_t from one run of the loop (the trace shows both)."""
        kept = self._steps(ids, x)[1]
        return kept["h"], kept["c"]

    def gradients(self, ids: np.ndarray, x: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Backpropagation through time: d logit / d x_t, (batch, time, embed_dim), and
        d logit / d h_t, (batch, time, units), as numpy_rnn.NumpyRNN.gradients."""
        ids, s = self._steps(ids, x)
        batch, steps, units = s["h"].shape
        d_x = np.zeros((batch, steps, self.embedding.shape[1]))
        d_h = np.zeros((batch, steps, units))
        g_h = np.repeat(self.W_hy[:, 0][None], batch, axis=0)  # d logit / d h_T
        g_c = np.zeros((batch, units))  # d logit / d c_T: c_T reaches the logit through h_T
        with np.errstate(all="ignore"):
            for t in reversed(range(steps)):
                d_h[:, t] = g_h
                reads = (ids[:, t] != 0)[:, None]
                c_prev = s["c"][:, t - 1] if t else np.zeros((batch, units))
                i, f, g, o = (s[k][:, t] for k in "ifgo")
                tanh_c = np.tanh(s["c"][:, t])
                c_total = g_c + g_h * o * (1.0 - tanh_c ** 2)  # d logit / d c_t, both paths
                d_i = c_total * g * i * (1.0 - i)  # to each gate's pre-activation
                d_f = c_total * c_prev * f * (1.0 - f)
                d_g = c_total * i * (1.0 - g ** 2)
                d_o = g_h * tanh_c * o * (1.0 - o)
                parts = {"i": d_i, "f": d_f, "g": d_g, "o": d_o}
                d_x[:, t] = np.where(reads, sum(d @ getattr(self, f"W_x{k}").T
                                                for k, d in parts.items()), 0.0)
                back_h = sum(d @ getattr(self, f"W_h{k}").T for k, d in parts.items())
                g_h = np.where(reads, back_h, g_h)  # to h_{t-1}
                g_c = np.where(reads, c_total * f, g_c)  # to c_{t-1}
        return d_x, d_h
