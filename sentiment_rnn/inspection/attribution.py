"""Which words moved the verdict: per-word attributions of one text, from the NumPy backward pass.

    ids -> model.gradients (backpropagation through time, nn/) -> gradient x input, integrated
    gradients per step read -> trace.py's rows (`inspect TEXT`, --json, Model.trace, the page)

Both explain the logit (log-odds of positive), not P, and need only the cell's interface
(`inputs`, `gradients`, `logit`), so they work for every cell. NumPy only; never TensorFlow.

Integrated gradients (Sundararajan et al., 2017) on the straight path from a baseline x' to the
text's embedding vectors x: IG_t = sum_d x_t,d * integral_0^1 d logit / d x_t,d (alpha x) d alpha.
The baseline is x' = 0 at the same steps: "no word information at that step", while the review
keeps its length (padding stays padding, every read step is still a step of the loop), so what
is shared out is what the words add, not what the length does. Its logit is not the output bias
alone: the recurrent layer's biases still enter every step. Completeness: sum_t IG_t = logit(x) - logit(0)
for the exact integral; the trapezoid rule here is refined until the sum is within TOLERANCE
(see `attribute`).
"""

from __future__ import annotations

import numpy as np

STEPS = 32  # trapezoid intervals of the first, uniform grid
MAX_STEPS = 1024  # intervals at most: refining stops here, and `ok` says whether it sufficed
TOLERANCE = 0.01  # completeness: relative error at most 1%
FLOOR = 0.01  # logit units: the relative error's denominator is never below this
CHUNK = 128  # alphas per call of model.gradients: bounds the memory whatever the steps


def relative_error(total: float, difference: float) -> float:
    """|total - difference| / max(|difference|, FLOOR): the completeness gap as a fraction of
    logit(text) - logit(baseline). The floor keeps a text whose logit barely differs from the
    baseline's from dividing by ~0; there an absolute gap of up to TOLERANCE * FLOOR passes."""
    return abs(total - difference) / max(abs(difference), FLOOR)


def _at(model, ids: np.ndarray, x: np.ndarray, alphas: np.ndarray):
    """At alpha * x for each alpha: the logit, (n,), and each step's sum_d x_t,d d logit /
    d x_t,d, (n, time), whose sum over t is d logit(alpha x) / d alpha. CHUNK alphas a call,
    each a row of one batch."""
    logits, per_step = [], []
    for start in range(0, len(alphas), CHUNK):
        a = alphas[start:start + CHUNK]
        rows, xs = np.repeat(ids, len(a), axis=0), a[:, None, None] * x
        logits.append(model.logit(rows, x=xs))
        per_step.append((model.gradients(rows, x=xs)[0] * x).sum(axis=-1))
    return np.concatenate(logits), np.concatenate(per_step)


def attribute(model, ids, steps: int = STEPS, max_steps: int = MAX_STEPS) -> dict:
    """Attributions of the logit to each step of `ids` (the ids the model reads, no padding).

    `grad_x_input`: sum_d (d logit / d x_t,d) x_t,d at the text, a first-order, local reading;
    `ig`: the integrated gradients (the module's docstring), one per step, by the trapezoid rule
    on a grid of alphas refined where it is needed. On each interval [a, b] the rule's share of
    sum_t IG_t is (b - a) (f'(a) + f'(b)) / 2, with f(alpha) = logit(alpha x), and should be
    f(b) - f(a); the shares add up to sum_t IG_t and the f(b) - f(a) to logit - baseline_logit,
    so the sum of the intervals' gaps bounds the completeness gap. While that bound is over
    TOLERANCE * max(|logit - baseline_logit|, FLOOR), every interval whose gap is over its width's
    share of it is halved, until the bound holds or there are `max_steps` intervals. (A recurrent
    net's f can rise in a step narrower than 1/1000 of the path, where a uniform grid of 1,024
    alphas still misses by tens of percent.)
    Returns also `logit`, `baseline_logit`, `ig_sum`, `relative_error` (see relative_error),
    `steps` (the intervals used; the gradient is taken at steps + 1 alphas) and `ok`
    (relative_error <= TOLERANCE)."""
    if not 1 <= steps <= max_steps:
        raise ValueError(f"need 1 <= steps <= max_steps, got {steps} and {max_steps}")
    ids = np.atleast_2d(np.asarray(ids))
    if ids.shape[0] != 1 or not ids.size or (ids == 0).any():
        raise ValueError("attribute needs one text's ids, at least one, and no padding")
    ids, x = model.inputs(ids)  # x: (1, time, embed_dim)
    alphas = np.linspace(0.0, 1.0, steps + 1)
    f, g = _at(model, ids, x, alphas)
    budget = TOLERANCE * max(abs(f[-1] - f[0]), FLOOR)
    while True:
        width = np.diff(alphas)
        gap = np.abs(width * (g[:-1].sum(-1) + g[1:].sum(-1)) / 2 - np.diff(f))
        room = max_steps - len(width)
        bad = np.flatnonzero(gap > budget * width)  # not empty while gap.sum() > budget
        if not gap.sum() > budget or not room or not len(bad):  # (NaN: stop, not ok)
            break
        bad = bad[np.argsort(-gap[bad], kind="stable")[:room]]  # the worst first
        new = (alphas[bad] + alphas[bad + 1]) / 2
        f_new, g_new = _at(model, ids, x, new)
        order = np.argsort(np.concatenate([alphas, new]), kind="stable")
        alphas = np.concatenate([alphas, new])[order]
        f, g = np.concatenate([f, f_new])[order], np.concatenate([g, g_new])[order]
    ig = (np.diff(alphas)[:, None] * (g[:-1] + g[1:]) / 2).sum(axis=0)
    logit, baseline = float(f[-1]), float(f[0])
    error = relative_error(float(ig.sum()), logit - baseline)
    return {"grad_x_input": g[-1].tolist(), "ig": ig.tolist(), "logit": logit,
            "baseline_logit": baseline, "ig_sum": float(ig.sum()), "relative_error": error,
            "steps": len(alphas) - 1, "ok": bool(error <= TOLERANCE)}
