"""ids -> probability in NumPy alone: the seed notebook's loop on the trained weights.

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        x_t = embedding[id_t], h_0 = 0
    P(positive) = sigmoid(h_T W_hy + b_y)

Padding (id 0) is skipped, as Keras' mask does: h_t = h_{t-1} at a padded step. Vectorized over
a batch; can return every hidden state h_t. Never imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batching import lengths, sorted_batches, trim
from .errors import RunFolderError

def _shapes(vocab_size: int, embed_dim: int, units: int) -> dict[str, tuple]:
    return {"embedding": (vocab_size, embed_dim), "W_xh": (embed_dim, units),
            "W_hh": (units, units), "b_h": (units,), "W_hy": (units, 1), "b_y": (1,)}


def _stored_shape(npz, name: str) -> tuple:
    """The shape in an .npz member's header, read without reading the array."""
    fmt = np.lib.format
    with npz.zip.open(f"{name}.npy") as f:
        version = fmt.read_magic(f)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"{name}.npy is in .npy format version {version}, not 1.0 or 2.0")
        shape, _, _ = read(f)
    return tuple(shape)


class UnusableWeights(ValueError):
    """Weights of the right shapes that no forward pass can use (NaN, infinity, integers)."""


MAX_ABS = 1e6  # no trained model has a weight this large; within it every step stays finite
NAMES = ("embedding", "W_xh", "W_hh", "b_h", "W_hy", "b_y")


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


@dataclass
class NumpyRNN:
    embedding: np.ndarray  # (vocab, embed_dim)
    W_xh: np.ndarray  # (embed_dim, units)
    W_hh: np.ndarray  # (units, units)
    b_h: np.ndarray  # (units,)
    W_hy: np.ndarray  # (units, 1)
    b_y: np.ndarray  # (1,)

    @classmethod
    def from_arrays(cls, arrays: dict, vocab_size: int, embed_dim: int, units: int) -> NumpyRNN:
        """Take the weights by name, checking every shape against the configuration."""
        expected = _shapes(vocab_size, embed_dim, units)
        missing = [n for n in NAMES if n not in arrays]
        if missing:
            raise ValueError(f"weights missing: {', '.join(missing)}")
        for name, shape in expected.items():
            got = tuple(np.shape(arrays[name]))
            if got != shape:
                raise ValueError(f"weight {name} has shape {got}, expected {shape}")
            if not np.issubdtype(np.asarray(arrays[name]).dtype, np.floating):
                raise UnusableWeights(f"weight {name} holds {np.asarray(arrays[name]).dtype}, not "
                                 f"floating-point numbers")
            if not np.isfinite(arrays[name]).all():
                raise UnusableWeights(f"weight {name} holds NaN or infinity")
            if np.abs(arrays[name]).max(initial=0) > MAX_ABS:
                raise UnusableWeights(f"weight {name} holds values beyond ±{MAX_ABS:g}, which "
                                      f"no trained model has")
        return cls(**{n: np.asarray(arrays[n], dtype=np.float64) for n in NAMES})

    @classmethod
    def load(cls, path: Path, vocab_size: int, embed_dim: int, units: int,
             data: bytes | None = None) -> NumpyRNN:
        """From a weights.npz file, or from its bytes already read (`data`; `path` then only
        names it in messages). Never unpickles."""
        path = Path(path)
        expected = _shapes(vocab_size, embed_dim, units)
        try:
            source = io.BytesIO(data) if data is not None else path
            with np.load(source, allow_pickle=False) as npz:
                # each array's header is read first: a shape that is not the expected one is
                # refused before anything is decompressed (no zip bomb), other arrays ignored
                arrays = {name: npz[name] for name in NAMES
                          if name in npz.files and _stored_shape(npz, name) == expected[name]}
                missing_or_wrong = [n for n in NAMES if n not in arrays]
                for name in missing_or_wrong:
                    if name in npz.files:
                        raise ValueError(f"weight {name} has shape {_stored_shape(npz, name)}, "
                                         f"expected {expected[name]}")
        except FileNotFoundError:
            raise RunFolderError(f"{path.parent}: {path.name} is missing") from None
        except ValueError as exc:
            if str(exc).startswith("weight "):
                raise RunFolderError(f"{path.parent}: {path.name} does not match config.json "
                                     f"({exc})") from None
            raise RunFolderError(f"{path.parent}: {path.name} is unreadable "
                                 f"({str(exc)[:200]})") from None
        except Exception as exc:  # truncated zip, pickled object arrays, not a file, ...
            raise RunFolderError(f"{path.parent}: {path.name} is unreadable "
                                 f"({str(exc)[:200]})") from None
        try:
            return cls.from_arrays(arrays, vocab_size, embed_dim, units)
        except UnusableWeights as exc:
            raise RunFolderError(f"{path.parent}: {path.name} is unusable ({exc})") from None
        except ValueError as exc:
            raise RunFolderError(f"{path.parent}: {path.name} does not match config.json "
                                 f"({exc})") from None

    @staticmethod
    def save(path: Path, arrays: dict) -> None:
        np.savez(path, **{n: np.asarray(arrays[n]) for n in NAMES})

    def hidden_states(self, ids: np.ndarray) -> np.ndarray:
        """Every hidden state: (batch, time) ids -> (batch, time, units) h_t."""
        ids = np.atleast_2d(np.asarray(ids))
        mask = (ids != 0)[:, :, None]  # (batch, time, 1)
        with np.errstate(all="ignore"):  # callers check the result is finite
            return self._states(ids, mask)

    def _states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        xw = self.embedding[ids] @ self.W_xh + self.b_h  # (batch, time, units)
        h = np.zeros((ids.shape[0], self.W_hh.shape[0]))  # (batch, units)
        states = np.empty_like(xw)
        for t in range(ids.shape[1]):
            h = np.where(mask[:, t], np.tanh(xw[:, t] + h @ self.W_hh), h)
            states[:, t] = h
        return states

    def output(self, h: np.ndarray) -> np.ndarray:
        """P(positive) read from any hidden state(s): sigmoid(h W_hy + b_y), shape h.shape[:-1]."""
        return sigmoid(h @ self.W_hy + self.b_y)[..., 0]

    def predict_proba(self, ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """P(positive) for a (batch, time) id array, as a (batch,) float array.

        For many texts BLAS runs on one thread: the matrices are small (batch x 32 by 32 x
        32), where threads gain nothing, and a multi-threaded BLAS that meets a busy core slows
        down tenfold (seen on this 2-core machine while another process ran). A few texts skip
        the switch, which costs more than it saves (threadpoolctl finds the BLAS on first use)."""
        ids = np.atleast_2d(np.asarray(ids))
        out = np.empty(ids.shape[0])
        with _one_blas_thread(ids.shape[0] >= ONE_THREAD_FROM):
            for rows in sorted_batches(lengths(ids), batch_size):  # padding is skipped anyway
                out[rows] = self.output(self.hidden_states(trim(ids[rows]))[:, -1])
        return out


ONE_THREAD_FROM = 256  # texts from which predict_proba runs BLAS on one thread


def _one_blas_thread(wanted: bool):
    if not wanted:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    return threadpool_limits(1, user_api="blas")
