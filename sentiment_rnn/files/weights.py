"""A run folder's weights.npz -> checked arrays, and back: the one source of the trained weights.

Keras training writes the arrays by the names of the cell's equations (nn/keras_model.weight_arrays);
the NumPy pass, the inspection and the notebook read them from here. A SimpleRNN has six arrays,
a GRU or an LSTM fifteen: one input matrix, one recurrent matrix and the biases for each gate. Nothing is trusted: every .npy header (shape,
dtype) is checked against config.json before any array is read, so a hostile file costs at most
the expected bytes; the arrays must be finite floats. Never unpickles.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.atomic import read_bytes

NAMES = ("embedding", "W_xh", "W_hh", "b_h", "W_hy", "b_y")  # the SimpleRNN's
# the gates of each gated cell, in Keras' order of the columns of its kernels: a GRU's update
# gate z, reset gate r and candidate n, each with an input and a recurrent bias
# (reset_after=True); an LSTM's input gate i, forget gate f, candidate g and output gate o
GATES = {"gru": ("z", "r", "n"), "lstm": ("i", "f", "g", "o")}


def names(cell: str = "simple") -> tuple[str, ...]:
    """The arrays of a cell's weights.npz, in order: the embedding, the recurrent layer's
    matrices and biases by gate, then the output layer's W_hy and b_y."""
    if cell == "simple":
        return NAMES
    biases = ("b_x{}", "b_h{}") if cell == "gru" else ("b_{}",)
    gates = [f.format(g) for g in GATES[cell] for f in ("W_x{}", "W_h{}", *biases)]
    return ("embedding", *gates, "W_hy", "b_y")


def shapes(vocab_size: int, embed_dim: int, units: int, cell: str = "simple"
           ) -> dict[str, tuple]:
    """Each array's shape for a configuration: W_x* (embed_dim, units), W_h* (units, units),
    biases (units,)."""
    def shape(name: str) -> tuple:
        if name == "embedding":
            return (vocab_size, embed_dim)
        if name in ("W_hy", "b_y"):
            return (units, 1) if name == "W_hy" else (1,)
        return {"W_x": (embed_dim, units), "W_h": (units, units)}.get(name[:3], (units,))
    return {name: shape(name) for name in names(cell)}


class _UnusableWeights(ValueError):
    """Weights of the right shapes that no forward pass can use (NaN, infinity, integers)."""


class _Mismatch(ValueError):
    """Weights missing, or of other shapes than the configuration's."""


class _NotAnNpz(Exception):
    """Bytes that are not an .npz archive of .npy arrays (text, a pickle, a truncated zip)."""


FLOATS = ("float16", "float32", "float64")  # read exactly as float64; no other dtype is read
MAX_MEMBERS = 64  # an .npz with more members than this is not one we wrote
MAX_HEADER = 4096  # bytes of an .npy header: ours are about 120
MAX_ABS = 1e6  # no trained model has a weight this large; within it every step stays finite


def _read_npz(data: bytes, expected: dict[str, tuple]) -> dict[str, np.ndarray]:
    """The arrays named in `expected` from the bytes of an .npz archive. Each .npy header is read first and
    must give the expected shape and a float dtype, so the arrays read are at most 8 bytes a
    weight; other members are never read. Raises _NotAnNpz, _UnusableWeights or _Mismatch."""
    if not data:
        raise _NotAnNpz("the file is empty")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [info.filename for info in archive.infolist()]
            if len(names) > MAX_MEMBERS:
                raise _NotAnNpz(f"it has {len(names):,} members; weights have {len(expected)}")
            if not any(n.endswith(".npy") for n in names):
                raise _NotAnNpz("a zip archive with no .npy array in it")
            twice = [n for n in expected if names.count(f"{n}.npy") > 1]
            if twice:
                raise _NotAnNpz(f"{twice[0]}.npy is in it more than once")
            missing = [n for n in expected if f"{n}.npy" not in names]
            if missing:
                raise _Mismatch(f"weights missing: {', '.join(missing)}")
            for name in expected:
                with archive.open(f"{name}.npy") as f:
                    shape, dtype = _header(f, name)
                if shape != expected[name]:
                    raise _Mismatch(f"weight {name} has shape {_short(shape)}, expected "
                                     f"{expected[name]}")
                _check_dtype(name, dtype)
            arrays = {}
            for name in expected:
                with archive.open(f"{name}.npy") as f:
                    try:
                        arrays[name] = np.lib.format.read_array(f, allow_pickle=False,
                                                                max_header_size=MAX_HEADER)
                    except ValueError as exc:  # fewer bytes than its header says
                        raise _NotAnNpz(f"{name}.npy: {str(exc)[:120]}") from None
            return arrays
    except zipfile.BadZipFile as exc:
        why = "no zip directory at its end: truncated, or not a zip archive" \
            if "not a zip file" in str(exc) else f"damaged zip archive: {str(exc)[:120]}"
        raise _NotAnNpz(why) from None
    except (zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        # a damaged compressed stream, an encrypted member, an unknown compression method
        raise _NotAnNpz(f"damaged zip archive: {type(exc).__name__}: {str(exc)[:120]}") from None


def _header(f, name: str) -> tuple[tuple, np.dtype]:
    """An .npy member's shape and dtype, from its header alone."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        read = {(1, 0): fmt.read_array_header_1_0,
                (2, 0): fmt.read_array_header_2_0}.get(version)
        if read is None:
            raise _NotAnNpz(f"{name}.npy is in .npy format version {version}, not 1.0 or 2.0")
        shape, _, dtype = read(f, max_header_size=MAX_HEADER)
    except ValueError as exc:  # no .npy magic, a header numpy cannot parse or too long
        raise _NotAnNpz(f"{name}.npy is not an .npy array ({str(exc)[:120]})") from None
    return tuple(shape), dtype


def _check_dtype(name: str, dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise _UnusableWeights(f"weight {name} holds Python objects, not numbers; such arrays "
                              f"are never read")
    if dtype.kind != "f":
        raise _UnusableWeights(f"weight {name} holds {_short(dtype)}, not floating-point numbers")
    if dtype.name not in FLOATS:
        raise _UnusableWeights(f"weight {name} holds {dtype.name}; only {', '.join(FLOATS)} "
                              f"are read")


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _checked_arrays(arrays: dict, expected: dict[str, tuple]) -> dict:
    """The weights by name as float64, each shape checked against the configuration and every
    value finite and within ±MAX_ABS. Raises _Mismatch or _UnusableWeights."""
    missing = [n for n in expected if n not in arrays]
    if missing:
        raise _Mismatch(f"weights missing: {', '.join(missing)}")
    for name, shape in expected.items():
        got = tuple(np.shape(arrays[name]))
        if got != shape:
            raise _Mismatch(f"weight {name} has shape {_short(got)}, expected {shape}")
        _check_dtype(name, np.asarray(arrays[name]).dtype)
    # float16/32/64 -> float64 is exact; the checks below then compare float64 with float64
    # (a float16 array against 1e6 would overflow in the cast)
    weights = {n: np.asarray(arrays[n], dtype=np.float64) for n in expected}
    for name, w in weights.items():
        if not np.isfinite(w).all():
            raise _UnusableWeights(f"weight {name} holds NaN or infinity")
        if max(w.max(), -w.min()) > MAX_ABS:  # no |w| copy: a large embedding is 400 MB
            raise _UnusableWeights(f"weight {name} holds values beyond ±{MAX_ABS:g}, which "
                                  f"no trained model has")
    return weights


def load_weights(path: Path, vocab_size: int, embed_dim: int, units: int,
                 data: bytes | None = None, cell: str = "simple") -> dict[str, np.ndarray]:
    """From a weights.npz file, or from its bytes already read (`data`; `path` then only
    names it in messages). Every array's .npy header (shape, dtype) is checked against
    the configuration before any array is read, so at most the expected bytes are ever
    decompressed; other members are never read. Never unpickles."""
    path = Path(path)
    where = f"{path.parent}: {path.name}"
    if data is None:
        data = read_bytes(path)  # a regular file of bounded size, or a one-line error
    try:
        expected = shapes(vocab_size, embed_dim, units, cell)
        return _checked_arrays(_read_npz(data, expected), expected)
    except _NotAnNpz as exc:
        raise RunFolderError(f"{where} is not a usable .npz file ({exc})") from None
    except _UnusableWeights as exc:
        raise RunFolderError(f"{where} is unusable ({exc})") from None
    except _Mismatch as exc:
        raise RunFolderError(f"{where} does not match config.json ({exc})") from None
    except ValueError as exc:  # anything else the zip or .npy readers refuse
        raise RunFolderError(f"{where} is not a usable .npz file "
                             f"({str(exc)[:160]})") from None


def save_weights(path: Path, arrays: dict, cell: str = "simple") -> None:
    """The cell's arrays by name, as an uncompressed .npz (np.savez)."""
    np.savez(path, **{n: np.asarray(arrays[n]) for n in names(cell)})
