"""ids -> probability in NumPy with a GRU cell (Cho et al., 2014), as Keras computes it, and back.

    forward   z_t = sigmoid(x_t W_xz + b_xz + h_{t-1} W_hz + b_hz)          update gate
              r_t = sigmoid(x_t W_xr + b_xr + h_{t-1} W_hr + b_hr)          reset gate
              n_t = tanh(x_t W_xn + b_xn + r_t * (h_{t-1} W_hn + b_hn))     candidate
              h_t = z_t * h_{t-1} + (1 - z_t) * n_t
    backward  g_t = d logit / d h_t; going back through the four lines above, in reverse:
              d n = g (1 - z)       d z = g (h_{t-1} - n)       g_{t-1} = g z + ...
              d a_n = d n (1 - n^2); the reset gate sees d a_n * (h_{t-1} W_hn + b_hn)

Keras' GRU applies the reset gate after the recurrent matrix (reset_after=True, its default and
the cuDNN form), so the candidate's recurrent bias b_hn sits inside r_t * (...); the older form
resets h_{t-1} before W_hn. Padding (id 0) is skipped: h_t = h_{t-1}. Never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_rnn.nn.numpy_base import NumpyReadout, sigmoid


@dataclass
class NumpyGRU(NumpyReadout):
    """A trained GRU network as NumPy arrays (files/weights.py reads them): per gate an input
    matrix W_x* (embed_dim, units), a recurrent matrix W_h* (units, units) and two biases."""

    CELL = "gru"
    embedding: np.ndarray
    W_xz: np.ndarray
    W_hz: np.ndarray
    b_xz: np.ndarray
    b_hz: np.ndarray
    W_xr: np.ndarray
    W_hr: np.ndarray
    b_xr: np.ndarray
    b_hr: np.ndarray
    W_xn: np.ndarray
    W_hn: np.ndarray
    b_xn: np.ndarray
    b_hn: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    def _steps(self, ids: np.ndarray, x: np.ndarray | None):
        """The forward loop, keeping what the backward loop needs: per step h_t and the gates
        z_t, r_t, n_t and the reset gate's input h_{t-1} W_hn + b_hn, each (batch, time, units)."""
        ids, x = self.inputs(ids, x)
        batch, steps = ids.shape
        keep = {k: np.zeros((batch, steps, self.units)) for k in ("h", "z", "r", "n", "hn")}
        with np.errstate(all="ignore"):  # callers check that the result is finite
            xz = x @ self.W_xz + self.b_xz  # the input's part of each gate, for every step
            xr = x @ self.W_xr + self.b_xr
            xn = x @ self.W_xn + self.b_xn
            h = np.zeros((batch, self.units))  # h_0 = 0
            for t in range(steps):
                z = sigmoid(xz[:, t] + h @ self.W_hz + self.b_hz)
                r = sigmoid(xr[:, t] + h @ self.W_hr + self.b_hr)
                hn = h @ self.W_hn + self.b_hn
                n = np.tanh(xn[:, t] + r * hn)
                reads = (ids[:, t] != 0)[:, None]  # padding: h_t = h_{t-1}
                h = np.where(reads, z * h + (1.0 - z) * n, h)
                for name, value in (("h", h), ("z", z), ("r", r), ("n", n), ("hn", hn)):
                    keep[name][:, t] = value
        return ids, keep

    def hidden_states(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Every hidden state: (batch, time) ids -> (batch, time, units) h_t."""
        return self._steps(ids, x)[1]["h"]

    def gradients(self, ids: np.ndarray, x: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Backpropagation through time: d logit / d x_t, (batch, time, embed_dim), and
        d logit / d h_t, (batch, time, units), as numpy_rnn.NumpyRNN.gradients."""
        ids, s = self._steps(ids, x)
        batch, steps, units = s["h"].shape
        d_x = np.zeros((batch, steps, self.embedding.shape[1]))
        d_h = np.zeros((batch, steps, units))
        g = np.repeat(self.W_hy[:, 0][None], batch, axis=0)  # d logit / d h_T
        with np.errstate(all="ignore"):
            for t in reversed(range(steps)):
                d_h[:, t] = g
                reads = (ids[:, t] != 0)[:, None]
                h_prev = s["h"][:, t - 1] if t else np.zeros((batch, units))
                z, r, n = s["z"][:, t], s["r"][:, t], s["n"][:, t]
                d_n = g * (1.0 - z) * (1.0 - n ** 2)  # to n's pre-activation, through tanh
                d_z = g * (h_prev - n) * z * (1.0 - z)  # to z's, through the sigmoid
                d_r = d_n * s["hn"][:, t] * r * (1.0 - r)  # to r's
                d_x[:, t] = np.where(reads, d_z @ self.W_xz.T + d_r @ self.W_xr.T
                                     + d_n @ self.W_xn.T, 0.0)
                back = g * z + d_z @ self.W_hz.T + d_r @ self.W_hr.T + (d_n * r) @ self.W_hn.T
                g = np.where(reads, back, g)  # to h_{t-1}
        return d_x, d_h
