"""Inside the trained model: the weights, its memory, and how it reads a text word by word.

Where it sits in the flow text -> tokens -> ids -> model -> probability: it reuses every stage
(text.py's tokenizer, the run's vocabulary, weights.npz through NumpyRNN) and opens the model
stage up, reporting each hidden state h_t and the running P(positive | words so far) =
sigmoid(h_t W_hy + b_y) instead of only the last one. Never imports TensorFlow, except for the
optional NumPy-vs-Keras parity check on the run's own data (its dataset's test split, or the
validation part of a user's file).
"""

from __future__ import annotations

import math
import os
import textwrap

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.nn.numpy_rnn import NAMES, NumpyRNN
from sentiment_rnn.prediction.predictor import UNKNOWN, label, load_numpy_model
from sentiment_rnn.files.run_folder import Run, load_run
from sentiment_rnn.text.vocabulary import OOV, RESERVED, encode, to_ids, tokenize

TOLERANCE = 1e-5  # largest NumPy-vs-Keras difference in P(positive) the parity check accepts
TOP_WORDS = 20  # words listed as most positive and most negative
ROLES = {
    "embedding": "x_t = embedding[id_t]",
    "W_xh": "kernel, x_t -> h_t",
    "W_hh": "recurrent kernel, h_{t-1} -> h_t",
    "b_h": "hidden bias",
    "W_hy": "output kernel, h_T -> logit",
    "b_y": "output bias",
}
WORDS_METHOD = ("each of the {n} vocabulary words alone, as a one-word review, through the NumPy "
                "forward pass: P(positive) = sigmoid(tanh(x W_xh + b_h) W_hy + b_y)")


def load(run_dir: str | os.PathLike) -> tuple[Run, NumpyRNN]:
    """The run folder and its weights.npz (checked against state.json): all inspecting needs."""
    run = load_run(run_dir)
    return run, load_numpy_model(run)


# ---------------------------------------------------------------------------------- the weights

def weights(model: NumpyRNN) -> dict[str, dict]:
    """Shape, parameter count, Frobenius norm and largest |w| of every weight."""
    return {name: {"shape": list(w.shape), "params": int(w.size),
                   "norm": float(np.linalg.norm(w)), "max_abs": float(np.max(np.abs(w)))}
            for name in NAMES for w in [getattr(model, name)]}


def memory(W_hh: np.ndarray) -> dict:
    """The spectral radius of W_hh and what it says about remembering and forgetting.

    Near h = 0, with no new input, h_t ~ h_{t-1} W_hh, so an old state's weight after k steps
    scales like rho^k (tanh only shrinks it further): rho < 1 forgets geometrically.
    """
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


def word_ranking(run: Run, model: NumpyRNN, k: int = TOP_WORDS) -> dict:
    """The k words that, alone as a review, the model finds most positive and most negative."""
    ids = np.arange(len(RESERVED), len(run.vocab))
    probs = model.predict_proba(ids[:, None])  # (words,): each word as a one-word review
    k = min(k, len(ids) // 2)  # a tiny vocabulary: the two lists never share a word
    order = np.argsort(-probs, kind="stable")

    def rows(index):
        return [{"word": run.vocab.words[ids[i]], "probability": float(probs[i])} for i in index]

    return {"most_positive": rows(order[:k]), "most_negative": rows(order[::-1][:k]),
            "method": WORDS_METHOD.format(n=len(ids))}


def parity_texts(run: Run, n: int, data_dir=None) -> tuple[list[str], str]:
    """The first n texts of the run's own data that the parity check reads, and what they are:
    the test split of the tfds dataset it was trained on, or the validation part of a user's
    file (split as training split it; the file is read again)."""
    cfg = run.config
    if cfg.data is None:
        from sentiment_rnn.data.imdb import DATASET, load_split

        texts, _ = load_split("test", data_dir, limit=n, dataset=cfg.dataset)
        name = "IMDB" if cfg.dataset == DATASET else cfg.dataset
        return texts, f"{name} test reviews"
    from sentiment_rnn.data.prepare import labelled_texts

    _, (texts, _) = labelled_texts(cfg, data_dir)
    where = cfg.validation_data or cfg.data
    return texts[:n], f"validation texts of {os.path.basename(where)}"


def parity(run: Run, model: NumpyRNN, n: int, data_dir=None) -> dict:
    """Largest |P_numpy - P_keras| over the first n texts of `parity_texts`. Imports
    TensorFlow."""
    from sentiment_rnn.nn.keras_model import predict_proba
    from sentiment_rnn.prediction.predictor import load_keras_model

    texts, source = parity_texts(run, n, data_dir)
    cfg = run.config
    ids = encode(texts, run.vocab, cfg.max_len, cfg.drop_oov)  # (reviews, time)
    diff = np.abs(model.predict_proba(ids) - predict_proba(load_keras_model(run), ids))
    worst = float(np.max(diff)) if len(diff) else 0.0
    return {"reviews": len(texts), "source": source, "max_abs_diff": worst,
            "tolerance": TOLERANCE, "ok": bool(worst <= TOLERANCE)}  # NaN is not ok


def overview(run_dir, check: int = 1000, data_dir=None, loaded=None) -> dict:
    """Everything `inspect` shows without a text; `check` = 0 skips the parity check.
    `loaded` is (run, model) already loaded by `load`."""
    run, model = loaded or load(run_dir)
    return {"model": str(run_dir), "weights": weights(model), "memory": memory(model.W_hh),
            "parity": parity(run, model, check, data_dir) if check else None,
            "words": word_ranking(run, model)}


def require_parity(report: dict) -> None:
    """Raise when the parity check ran and NumPy and Keras disagree."""
    check = report["parity"]
    if check is not None and not check["ok"]:
        raise RunFolderError(f"{report['model']}: weights.npz and model.keras disagree by up to "
                             f"{check['max_abs_diff']:.3g} on {check['reviews']} "
                             f"{check['source']} (limit {TOLERANCE:g})")


def format_overview(report: dict) -> str:
    w = report["weights"]
    total = sum(v["params"] for v in w.values())
    lines = [f"Model: {report['model']}", f"Embedding -> SimpleRNN -> Dense(sigmoid), "
             f"{total:,} parameters", "",
             f"{'weight':<10} {'role':<32} {'shape':>10} {'params':>7} {'norm':>8} {'max |w|':>8}"]
    for name, v in w.items():
        shape = "(" + ", ".join(map(str, v["shape"])) + ("," if len(v["shape"]) == 1 else "") + ")"
        lines.append(f"{name:<10} {ROLES[name]:<32} {shape:>10} {v['params']:>7,} "
                     f"{v['norm']:>8.3f} {v['max_abs']:>8.3f}")
    m = report["memory"]
    lines += ["(norm: Frobenius, the square root of the sum of squares)", "",
              f"Memory: spectral radius of W_hh, rho = {m['spectral_radius']:.3f} (largest "
              f"|eigenvalue|; spectral norm {m['spectral_norm']:.3f})",
              textwrap.fill(m["meaning"], 96, initial_indent="  ", subsequent_indent="  "), ""]
    p = report["parity"]
    if p is None:
        lines.append("Parity: skipped (--check 0)")
    else:
        verdict = "OK" if p["ok"] else "FAILED"
        lines += [f"Parity: NumPy vs Keras on {p['reviews']:,} {p['source']}: {verdict}",
                  f"  largest |difference| in P(positive) {p['max_abs_diff']:.2e} (limit "
                  f"{TOLERANCE:.0e})"]
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

def trace(run_dir, text: str, loaded=None) -> dict:
    """The seed notebook's loop on the real weights: h_t and P(positive) after every word.
    `loaded` is (run, model) already loaded by `load`."""
    run, model = loaded or load(run_dir)
    cfg = run.config
    tokens = tokenize(text)
    ids = run.vocab.lookup(tokens)
    kept = [i for i, id_ in enumerate(ids) if not (cfg.drop_oov and id_ == OOV)]
    read = kept[-cfg.max_len:]  # token positions the model reads, one per time step
    seq = [ids[i] for i in read]
    assert seq == to_ids(tokens, run.vocab, cfg.max_len, cfg.drop_oov)  # what predict reads
    states = model.hidden_states(np.array([seq or [0]]))[0]  # (time, units)
    probs = model.output(states)  # (time,): P(positive | words so far)
    start = float(model.output(np.zeros(cfg.units)))  # h_0 = 0: sigmoid(b_y)
    step = {pos: t for t, pos in enumerate(read)}
    rows = []
    for i, (word, id_) in enumerate(zip(tokens, ids)):
        t = step.get(i)
        status = "read" if t is not None else "dropped" if id_ == OOV and cfg.drop_oov else "cut"
        rows.append({"word": word, "id": id_, "oov": id_ == OOV, "status": status,
                     "step": None if t is None else t + 1,
                     "h": None if t is None else states[t].tolist(),
                     "probability": None if t is None else float(probs[t])})
    if not (np.isfinite(states).all() and np.isfinite(probs).all()):
        raise RunFolderError(f"{run_dir}: the model gave a non-finite value; its weights are "
                             f"unusable")
    known = any(i != OOV for i in seq)
    final = float(probs[-1]) if known else None  # no known word read: the prior says nothing
    oov_words = list(dict.fromkeys(w for w, id_ in zip(tokens, ids) if id_ == OOV))
    return {"model": str(run_dir), "text": text, "max_len": cfg.max_len,
            "drop_oov": cfg.drop_oov, "units": cfg.units, "start_probability": start,
            "probability": final, "label": UNKNOWN if final is None else label(final),
            "tokens": rows,
            "oov_words": oov_words, "truncated": len(kept) > cfg.max_len,
            "cut": max(0, len(kept) - cfg.max_len)}


BAR = 10  # characters of the sentiment bar on each side of P = 0.5
LEVELS = "▁▂▃▄▅▆▇█"  # a hidden unit's value from -1 to +1, one character per unit
RED, GREEN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[0m"


def _bar(p: float, color: bool) -> str:
    """Left of | for negative, right for positive; full at P = 0 or 1."""
    n = min(BAR, round(abs(p - 0.5) * 2 * BAR))
    left = " " * (BAR - n) + "█" * n if p < 0.5 else " " * BAR
    right = "█" * n + " " * (BAR - n) if p >= 0.5 else " " * BAR
    if color:
        left, right = f"{RED}{left}{RESET}", f"{GREEN}{right}{RESET}"
    return f"{left}|{right}"


def _compact(h: list[float], width: int = 48) -> str:
    """h_t as one character per unit: ▁ = -1 ... █ = +1."""
    chars = "".join(LEVELS[min(len(LEVELS) - 1, int((v + 1) / 2 * len(LEVELS)))] for v in h[:width])
    return chars + ("…" if len(h) > width else "")


def _word(word: str, width: int = 16) -> str:
    return word if len(word) <= width else word[:width - 1] + "…"


def format_trace(report: dict, color: bool = False) -> str:
    """The trace as a table: one row per word, a bar where the review leans, h_t compact."""
    max_len, start = report["max_len"], report["start_probability"]
    oov_rule = "dropped" if report["drop_oov"] else "read as <oov>, id 1"
    lines = [f"Model: {report['model']}  (reads the last {max_len} words; out-of-vocabulary "
             f"words are {oov_rule}, as in training)",
             f"P(positive) before any word: {start:.4f}  (h_0 = 0, so sigmoid(b_y))", "",
             f"{'t':>4}  {'word':<16} {'id':>5}  P(pos)  {'change':>7}  "
             f"{'negative':<{BAR}}|{'positive':>{BAR}}  h_t (-1 {LEVELS[0]}…{LEVELS[-1]} +1)"]
    rows = report["tokens"]
    if report["cut"]:  # every cut word comes before the first word read
        first = next(i for i, r in enumerate(rows) if r["status"] == "read")
        dropped = sum(r["status"] == "dropped" for r in rows[:first])
        lines.append(f"{'…':>4}  {first} earlier words not read: {report['cut']} cut to max_len "
                     f"{max_len}" + (f", {dropped} out of vocabulary" if dropped else ""))
        rows = rows[first:]
    prev = start
    for r in rows:
        if r["status"] != "read":
            lines.append(f"{'-':>4}  {_word(r['word']):<16} {'OOV':>5}  dropped (out of "
                         f"vocabulary)")
            continue
        p = r["probability"]
        turn = f"  <- turns {label(p)}" if label(p) != label(prev) else ""
        lines.append(f"{r['step']:>4}  {_word(r['word']):<16} {'OOV' if r['oov'] else r['id']:>5}"
                     f"  {p:.4f}  {p - prev:+.4f}  {_bar(p, color)}  {_compact(r['h'])}{turn}")
        prev = p
    read = [r for r in report["tokens"] if r["status"] == "read"]
    moves, prev = [], start
    for r in read:
        moves.append((r["probability"] - prev, r))
        prev = r["probability"]
    moves.sort(key=lambda m: -abs(m[0]))
    oov = report["oov_words"]
    lines += ["", "Out of vocabulary: " + (f"{', '.join(oov)} ({oov_rule})" if oov else "none"),
              "Cut to max_len: " + (f"yes, the first {report['cut']} words; the model reads the "
                                    f"last {max_len}" if report["truncated"] else
                                    f"no ({len(read)} of {max_len} words read)")]
    if moves:
        lines.append("Largest moves: " + ", ".join(f"{r['word']} {d:+.3f} (t={r['step']})"
                                                   for d, r in moves[:3]))
    if report["probability"] is None:
        lines.append("No word of the text is in the vocabulary: unknown, no probability  "
                     "(what `sentiment-rnn predict` gives)")
    else:
        lines.append(f"P(positive) = {report['probability']:.4f} -> {report['label']}  "
                     f"(what `sentiment-rnn predict` gives)")
    return "\n".join(lines)
