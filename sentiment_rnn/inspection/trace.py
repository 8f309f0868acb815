"""Inside the trained model, one text: how it reads the text word by word (`inspect TEXT`).

It reuses every stage of the flow (the tokenizer, the run's vocabulary, weights.npz through
NumpyRNN) and opens the model stage up, reporting each hidden state h_t and the running
P(positive | words so far) = sigmoid(h_t W_hy + b_y) instead of only the last one. Never imports
TensorFlow.
"""

from __future__ import annotations

import os

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.run_folder import Run, load_run
from sentiment_rnn.inspection.attribution import TOLERANCE, attribute
from sentiment_rnn.nn.numpy_base import NumpyReadout
from sentiment_rnn.nn.verdict import UNKNOWN, label
from sentiment_rnn.prediction.predictor import load_numpy_model
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import OOV, to_ids


def load(run_dir: str | os.PathLike) -> tuple[Run, NumpyReadout]:
    """The run folder and its weights.npz (checked against state.json): all inspecting needs."""
    run = load_run(run_dir)
    return run, load_numpy_model(run)


def trace(run_dir, text: str, loaded=None, attributions: bool = True) -> dict:
    """The seed notebook's loop on the real weights: h_t and P(positive) after every word, and
    each word's attributions (attribution.py; `attributions=False` leaves them None).
    `loaded` is (run, model) already loaded by `load`."""
    run, model = loaded or load(run_dir)
    cfg = run.config
    tokens = tokenize(text)
    ids = run.vocab.lookup(tokens)
    kept = [i for i, id_ in enumerate(ids) if not (cfg.drop_oov and id_ == OOV)]
    read = kept[-cfg.max_len:]  # token positions the model reads, one per time step
    seq = [ids[i] for i in read]
    assert seq == to_ids(tokens, run.vocab, cfg.max_len, cfg.drop_oov)  # what predict reads
    rows_ids = np.array([seq or [0]])
    if model.CELL == "lstm":  # an LSTM's memory c_t beside h_t, from the same loop
        states, cells = (part[0] for part in model.states(rows_ids))  # (time, units) each
    else:  # other cells have no c_t
        states, cells = model.hidden_states(rows_ids)[0], None  # (time, units)
    probs = model.output(states)  # (time,): P(positive | words so far)
    start = float(model.output(np.zeros(cfg.units)))  # h_0 = 0: sigmoid(b_y)
    found = attribute(model, np.array(seq)) if attributions and seq else None
    gxi, ig = (found["grad_x_input"], found["ig"]) if found else ([None] * len(seq),) * 2
    step = {pos: t for t, pos in enumerate(read)}
    rows = []
    for i, (word, id_) in enumerate(zip(tokens, ids)):
        t = step.get(i)
        status = "read" if t is not None else "dropped" if id_ == OOV and cfg.drop_oov else "cut"
        rows.append({"word": word, "id": id_, "oov": id_ == OOV, "status": status,
                     "step": None if t is None else t + 1,
                     "h": None if t is None else states[t].tolist(),
                     "probability": None if t is None else float(probs[t]),
                     "grad_x_input": None if t is None else gxi[t],
                     "integrated_gradients": None if t is None else ig[t]})
        if cells is not None:
            rows[-1]["c"] = None if t is None else cells[t].tolist()
    attribution = found and {k: found[k] for k in ("baseline_logit", "logit", "ig_sum",
                                                   "relative_error", "steps", "ok")}
    values = [*found["ig"], *found["grad_x_input"], found["baseline_logit"]] if found else []
    if not (np.isfinite(states).all() and np.isfinite(probs).all()
            and (cells is None or np.isfinite(cells).all())
            and np.isfinite(values).all()):
        raise RunFolderError(f"{run_dir}: the model gave a non-finite value; its weights are "
                             f"unusable")
    known = any(i != OOV for i in seq)
    final = float(probs[-1]) if known else None  # no known word read: the prior says nothing
    oov_words = list(dict.fromkeys(w for w, id_ in zip(tokens, ids) if id_ == OOV))
    return {"model": str(run_dir), "cell": model.CELL, "text": text, "max_len": cfg.max_len,
            "drop_oov": cfg.drop_oov, "units": cfg.units, "start_probability": start,
            "probability": final, "label": UNKNOWN if final is None else label(final),
            "tokens": rows, "attribution": attribution,
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
    """h_t (or an LSTM's c_t) as one character per unit: ▁ = -1 ... █ = +1; beyond ±1 (c_t
    can be) shown as ▁ or █."""
    top = len(LEVELS) - 1
    chars = "".join(LEVELS[max(0, min(top, int((v + 1) / 2 * len(LEVELS))))] for v in h[:width])
    return chars + ("…" if len(h) > width else "")


def _word(word: str, width: int = 16) -> str:
    return word if len(word) <= width else word[:width - 1] + "…"


def _completeness(a: dict) -> list[str]:
    """The IG column explained, and its check: the sum against logit(text) - logit(baseline)."""
    verdict = "ok" if a["ok"] else f"NOT within {TOLERANCE:.0%}"
    return ["IG (logit): integrated gradients, each word's share of logit(text) - logit(zero "
            "word vectors)",
            f"Completeness: IG sum {a['ig_sum']:+.4f}, logit {a['logit']:+.4f} - baseline "
            f"{a['baseline_logit']:+.4f} = {a['logit'] - a['baseline_logit']:+.4f}: off by "
            f"{a['relative_error']:.2%} ({verdict}, {a['steps']} steps)"]


def format_trace(report: dict, color: bool = False) -> str:
    """The trace as a table: one row per word, a bar where the review leans, h_t compact."""
    max_len, start = report["max_len"], report["start_probability"]
    oov_rule = "dropped" if report["drop_oov"] else "read as <oov>, id 1"
    lines = [f"Model: {report['model']}  (reads the last {max_len} words; out-of-vocabulary "
             f"words are {oov_rule}, as in training)",
             f"P(positive) before any word: {start:.4f}  (h_0 = 0, so sigmoid(b_y))", "",
             f"{'t':>4}  {'word':<16} {'id':>5}  P(pos)  {'change':>7}  {'IG (logit)':>10}  "
             f"{'negative':<{BAR}}|{'positive':>{BAR}}  h_t (-1 {LEVELS[0]}…{LEVELS[-1]} +1)"
             + ("  c_t (clipped to ±1)" if report.get("cell") == "lstm" else "")]
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
        ig = r["integrated_gradients"]
        lines.append(f"{r['step']:>4}  {_word(r['word']):<16} {'OOV' if r['oov'] else r['id']:>5}"
                     f"  {p:.4f}  {p - prev:+.4f}  {'-' if ig is None else f'{ig:+.4f}':>10}  "
                     f"{_bar(p, color)}  {_compact(r['h'])}"
                     f"{'  ' + _compact(r['c']) if 'c' in r else ''}{turn}")
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
    if report.get("attribution"):
        lines += _completeness(report["attribution"])
    if report["probability"] is None:
        lines.append("No word of the text is in the vocabulary: unknown, no probability  "
                     "(what `sentiment-rnn predict` gives)")
    else:
        lines.append(f"P(positive) = {report['probability']:.4f} -> {report['label']}  "
                     f"(what `sentiment-rnn predict` gives)")
    return "\n".join(lines)
