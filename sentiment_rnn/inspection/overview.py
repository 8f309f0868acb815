"""Inside the trained model, as a whole: its weights, its memory and its words (`inspect`).

Runs on the NumPy pass: the shapes and norms of the weights, the spectral radius of a SimpleRNN's
W_hh and what it says about forgetting (a gated cell's memory is set by its gates instead), the words the model finds most positive and negative alone. With
`check`, the NumPy-vs-Keras parity check (parity.py) also runs: the only part that imports
TensorFlow.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.inspection.trace import load
from sentiment_rnn.config import CELL_NAMES
from sentiment_rnn.files.weights import GATES
from sentiment_rnn.nn.numpy_base import NumpyReadout
from sentiment_rnn.text.vocabulary import RESERVED

TOP_WORDS = 20  # words listed as most positive and most negative
ROLES = {
    "embedding": "x_t = embedding[id_t]",
    "W_xh": "kernel, x_t -> h_t",
    "W_hh": "recurrent kernel, h_{t-1} -> h_t",
    "b_h": "hidden bias",
    "W_hy": "output kernel, h_T -> logit",
    "b_y": "output bias",
}
GATE_NAMES = {"z": "update gate", "r": "reset gate", "n": "candidate", "i": "input gate",
              "f": "forget gate", "g": "candidate", "o": "output gate"}
WORDS_METHOD = ("each of the {n} vocabulary words alone, as a one-word review, through the NumPy "
                "forward pass: P(positive) = {formula}")
FORMULA = {"simple": "sigmoid(tanh(x W_xh + b_h) W_hy + b_y)"}  # other cells: sigmoid(h_1 ...)
GATED_MEMORY = ("a gated cell: how long it remembers is decided at every step by its gates (an "
                "LSTM's forget gate f_t, a GRU's update gate z_t), not by one matrix; "
                "`inspect --memory` measures it.")


def role(name: str) -> str:
    """What a weight does, from its name: ROLES, or a gate's matrix or bias."""
    if name in ROLES:
        return ROLES[name]
    gate = name[-1]
    what = {"W_x": f"x_t -> {gate}_t", "W_h": f"h_{{t-1}} -> {gate}_t", "b_x": "input bias",
            "b_h": "recurrent bias"}.get(name[:3], "bias")
    return f"{GATE_NAMES[gate]}, {what}"


# ---------------------------------------------------------------------------------- the weights

def weights(model: NumpyReadout) -> dict[str, dict]:
    """Shape, parameter count, Frobenius norm and largest |w| of every weight."""
    return {name: {"shape": list(w.shape), "params": int(w.size),
                   "norm": float(np.linalg.norm(w)), "max_abs": float(np.max(np.abs(w)))}
            for name, w in model.arrays.items()}


def memory(model: NumpyReadout) -> dict:
    """The spectral radius of a SimpleRNN's W_hh and what it says about remembering and
    forgetting; for a gated cell (GRU, LSTM) no radius (None) and what decides instead.

    Near h = 0, with no new input, h_t ~ h_{t-1} W_hh, so an old state's weight after k steps
    scales like rho^k (tanh only shrinks it further): rho < 1 forgets geometrically.
    """
    if model.CELL in GATES:
        return {"spectral_radius": None, "spectral_norm": None, "meaning": GATED_MEMORY}
    W_hh = model.W_hh
    rho = float(np.max(np.abs(np.linalg.eigvals(W_hh))))
    if rho < 1:
        half = math.log(0.5) / math.log(rho) if rho > 0 else 0.0
        meaning = (f"rho < 1: left alone, h_t shrinks about x{rho:.2f} a step, so a word's trace "
                   f"halves within ~{half:.1f} words; the network forgets, and the end of a "
                   f"review weighs most.")
    else:
        meaning = ("rho >= 1: some directions of h_t do not fade on their own (tanh keeps them "
                   "bounded), so the network can hold a verdict over many words instead of "
                   "forgetting it.")
    return {"spectral_radius": rho, "spectral_norm": float(np.linalg.norm(W_hh, 2)),
            "meaning": meaning}


def word_ranking(run: Run, model: NumpyReadout, k: int = TOP_WORDS) -> dict:
    """The k words that, alone as a review, the model finds most positive and most negative."""
    ids = np.arange(len(RESERVED), len(run.vocab))
    probs = model.predict_proba(ids[:, None])  # (words,): each word as a one-word review
    k = min(k, len(ids) // 2)  # a tiny vocabulary: the two lists never share a word
    order = np.argsort(-probs, kind="stable")

    def rows(index):
        return [{"word": run.vocab.words[ids[i]], "probability": float(probs[i])} for i in index]

    return {"most_positive": rows(order[:k]), "most_negative": rows(order[::-1][:k]),
            "method": WORDS_METHOD.format(n=len(ids), formula=FORMULA.get(
                model.CELL, "sigmoid(h_1 W_hy + b_y)"))}


def overview(run_dir, check: int = 1000, data_dir=None, loaded=None) -> dict:
    """Everything `inspect` shows without a text; `check` = 0 skips the parity check.
    `loaded` is (run, model) already loaded by `load`."""
    run, model = loaded or load(run_dir)
    return {"model": str(run_dir), "cell": model.CELL, "weights": weights(model),
            "memory": memory(model),
            "parity": _parity(run, model, check, data_dir) if check else None,
            "words": word_ranking(run, model)}


def format_overview(report: dict) -> str:
    w = report["weights"]
    total = sum(v["params"] for v in w.values())
    cell = CELL_NAMES[report.get("cell", "simple")]
    lines = [f"Model: {report['model']}", f"Embedding -> {cell} -> Dense(sigmoid), "
             f"{total:,} parameters", "",
             f"{'weight':<10} {'role':<32} {'shape':>10} {'params':>7} {'norm':>8} {'max |w|':>8}"]
    for name, v in w.items():
        shape = "(" + ", ".join(map(str, v["shape"])) + ("," if len(v["shape"]) == 1 else "") + ")"
        lines.append(f"{name:<10} {role(name):<32} {shape:>10} {v['params']:>7,} "
                     f"{v['norm']:>8.3f} {v['max_abs']:>8.3f}")
    m = report["memory"]
    lines += ["(norm: Frobenius, the square root of the sum of squares)", ""]
    if m["spectral_radius"] is not None:
        lines.append(f"Memory: spectral radius of W_hh, rho = {m['spectral_radius']:.3f} "
                     f"(largest |eigenvalue|; spectral norm {m['spectral_norm']:.3f})")
    else:
        lines.append("Memory:")
    lines += [textwrap.fill(m["meaning"], 96, initial_indent="  ", subsequent_indent="  "), ""]
    p = report["parity"]
    if p is None:
        lines.append("Parity: skipped (--check 0)")
    else:
        verdict = "OK" if p["ok"] else "FAILED"
        lines += [f"Parity: NumPy vs Keras on {p['reviews']:,} {p['source']}: {verdict}",
                  f"  largest |difference| in P(positive) {p['max_abs_diff']:.2e} (limit "
                  f"{p['tolerance']:.0e})"]
        if "gradient_max_rel_diff" in p:
            lines.append(f"  largest relative difference in d logit / d x_t (backpropagation "
                         f"through time vs GradientTape) {p['gradient_max_rel_diff']:.2e}")
    words = report["words"]
    pos, neg = words["most_positive"], words["most_negative"]
    width = max([len(r["word"]) for r in pos + neg] + [8])
    lines += ["", f"     {'most positive':<{width + 7}}       most negative"]
    for i, (a, b) in enumerate(zip(pos, neg), 1):
        lines.append(f"{i:>3}  {a['word']:<{width}} {a['probability']:.3f}    "
                     f"{b['word']:<{width}} {b['probability']:.3f}")
    lines.append(textwrap.fill(f"Found by running {words['method']}.", 96))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- a text, step by step


def _parity(run: Run, model: NumpyReadout, n: int, data_dir) -> dict:
    """`inspect --check`: the one door from here to TensorFlow, opened only when asked."""
    from sentiment_rnn.inspection.parity import parity

    return parity(run, model, n, data_dir)


def require_parity(report: dict) -> None:
    """Raise when the parity check ran and NumPy and Keras disagree (in P, or in gradients)."""
    check = report["parity"]
    if check is None or check["ok"]:
        return
    where = f"on {check['reviews']} {check['source']} (limit {check['tolerance']:g})"
    if not check["max_abs_diff"] <= check["tolerance"]:
        raise RunFolderError(f"{report['model']}: weights.npz and model.keras disagree by up to "
                             f"{check['max_abs_diff']:.3g} {where}")
    raise RunFolderError(f"{report['model']}: the NumPy backward pass and GradientTape differ by "
                         f"up to {check['gradient_max_rel_diff']:.3g} (relative) {where}")
