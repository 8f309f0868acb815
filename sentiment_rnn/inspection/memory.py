"""How far back does it remember: the verdict's dependence on the word k steps before the end.

    validation reviews (validation.py) -> ids -> model.gradients, model.predict_proba
      -> by distance k: mean |d logit / d x|, mean leave-one-out |dP| -> half-lives
      + the controlled probe (probe.py): a verdict sentence, then k neutral words -> accuracy

Distance k counts the words the model reads back from the end: k = 1 is the last word read,
k = L the first of a review that reads L words. At each k only the reviews that read at least k
words count, and the count is reported beside each mean.

- gradient: the mean, over reviews, of the Euclidean norm of d logit / d x at distance k
  (x = the word's embedding), from the backward pass: every k from 1 to max_len.
- leave-one-out: the mean |P(review) - P(the review with the word at distance k removed)|,
  removed = the step dropped, the review one word shorter. One predict_proba over all reviews
  per k, so the work is bounded by a grid of k: every k <= 20, then 20 log-spaced k to max_len.
- half-life, in words: a straight line fitted by least squares to log(curve) against k, over
  the k with values above 0 that at least a tenth of the reviews (and at least 10) reach;
  half-life = ln 2 / -slope (None when the curve does not fall). A fit uses the whole curve,
  where "the first k where the curve falls to half its k = 1 value" hangs on the one noisy value
  at k = 1 and on one crossing.

Uses only model.gradients and model.predict_proba: every cell (SimpleRNN, GRU,
LSTM) is measured the same way. NumPy only: never imports TensorFlow (reading a tfds dataset's
validation reviews does, in validation.py).
"""

from __future__ import annotations

import math

import numpy as np

from sentiment_rnn.errors import DataFileError
from sentiment_rnn.nn.batching import lengths, sorted_batches, trim

DEFAULT_REVIEWS = 1000
DENSE_UP_TO = 20  # leave-one-out at every k up to this, then LOG_POINTS log-spaced k
LOG_POINTS = 20
MIN_SHARE, MIN_COUNT = 0.1, 10  # a k enters the half-life fit when this many reviews reach it
HALF_LIFE_METHOD = ("least squares fit of log(curve) = a - k ln2 / half-life over the k that "
                    "at least a tenth of the reviews (and at least 10) reach")


def distances(ids: np.ndarray) -> np.ndarray:
    """(batch, time) ids -> each step's distance from the end in words read: 1 for the last
    word read, 0 at padding (id 0)."""
    read = np.asarray(ids) != 0
    return np.cumsum(read[:, ::-1], axis=1)[:, ::-1] * read


def _means(sums: np.ndarray, counts: np.ndarray) -> list[float | None]:
    return [float(s / c) if c else None for s, c in zip(sums, counts)]


def gradient_curve(model, ids: np.ndarray, batch_size: int = 256
                   ) -> tuple[list[float | None], list[int]]:
    """For k = 1..width: the mean over reviews of |d logit / d x| at distance k, and how many
    reviews read at least k words."""
    ids = np.atleast_2d(np.asarray(ids))
    width = ids.shape[1]
    sums, counts = np.zeros(width + 1), np.zeros(width + 1, dtype=np.int64)
    for rows in sorted_batches(lengths(ids), batch_size):
        part = trim(ids[rows])
        d_x, _ = model.gradients(part)
        dist = distances(part).ravel()
        sums += np.bincount(dist, weights=np.linalg.norm(d_x, axis=2).ravel(), minlength=width + 1)
        counts += np.bincount(dist, minlength=width + 1)
    return _means(sums[1:], counts[1:]), [int(c) for c in counts[1:]]


def loo_grid(max_len: int) -> list[int]:
    """The distances leave-one-out measures: every k <= 20, then 20 log-spaced k to max_len."""
    dense = list(range(1, min(DENSE_UP_TO, max_len) + 1))
    if max_len <= DENSE_UP_TO:
        return dense
    far = np.geomspace(DENSE_UP_TO + 1, max_len, LOG_POINTS).round().astype(int)
    return dense + sorted(set(far.tolist()) - set(dense))


def without_word(ids: np.ndarray, k: int) -> np.ndarray:
    """Each row with its word at distance k removed: the other ids in order, one more padding
    step in front (same width). Every row must read at least k words."""
    ids = np.atleast_2d(np.asarray(ids))
    keep = distances(ids) != k
    rest = ids[keep].reshape(len(ids), ids.shape[1] - 1)
    return np.concatenate([np.zeros((len(ids), 1), dtype=ids.dtype), rest], axis=1)


def leave_one_out_curve(model, ids: np.ndarray, ks: list[int]
                        ) -> tuple[list[float | None], list[int]]:
    """For each k of `ks`: the mean |P(review) - P(review without its word at distance k)|
    over the reviews that read at least k words, and their count. One predict_proba per k."""
    ids = np.atleast_2d(np.asarray(ids))
    n_read = lengths(ids)
    p = model.predict_proba(ids)
    means, counts = [], []
    for k in ks:
        rows = np.flatnonzero(n_read >= k)
        counts.append(int(len(rows)))
        if not len(rows):
            means.append(None)
            continue
        changed = model.predict_proba(without_word(ids[rows], k))
        means.append(float(np.mean(np.abs(p[rows] - changed))))
    return means, counts


def half_life(ks, values, counts, reviews: int) -> dict:
    """The half-life in words of a curve: ln 2 / -slope of a least-squares line through
    (k, log value) over the k with a value above 0 that at least max(10, reviews / 10) reviews
    reach; None when fewer than 2 such k, or when the curve does not fall."""
    floor = max(MIN_COUNT, math.ceil(MIN_SHARE * reviews))
    used = [(k, v) for k, v, c in zip(ks, values, counts)
            if v is not None and v > 0 and math.isfinite(v) and c >= floor]
    out = {"half_life": None, "fit_k": [used[0][0], used[-1][0]] if used else None,
           "min_reviews": floor}
    if len(used) < 2:
        return out
    k, v = np.array(used, dtype=float).T
    slope, _ = np.polyfit(k, np.log(v), 1)
    out["slope"] = float(slope)
    if slope < 0:
        out["half_life"] = float(math.log(2) / -slope)
    return out


def memory_curves(model, ids: np.ndarray) -> dict:
    """Both curves and their half-lives over the reviews of `ids` (batch, max_len)."""
    ids = np.atleast_2d(np.asarray(ids))
    ks = list(range(1, ids.shape[1] + 1))
    norms, counts = gradient_curve(model, ids)
    grid = loo_grid(ids.shape[1])
    changes, loo_counts = leave_one_out_curve(model, ids, grid)
    n = len(ids)
    return {
        "gradient": {"k": ks, "mean_norm": norms, "reviews": counts,
                     **half_life(ks, norms, counts, n)},
        "leave_one_out": {"k": grid, "mean_abs_change": changes, "reviews": loo_counts,
                          **half_life(grid, changes, loo_counts, n)},
        "half_life_method": HALF_LIFE_METHOD,
    }


def memory(run, model, reviews: int = DEFAULT_REVIEWS, data_dir=None, probe: bool = True,
           parts=None) -> dict:
    """`inspect --memory --json`: the curves over the run's first `reviews` validation reviews
    and, with `probe`, the controlled probe (probe.py). `parts`: validation.run_parts already
    read."""
    import time

    from sentiment_rnn.inspection.validation import run_parts
    from sentiment_rnn.text.vocabulary import encode

    if reviews < 1:
        raise ValueError(f"reviews must be at least 1, got {reviews}")
    started = time.perf_counter()
    parts = parts or run_parts(run, data_dir)
    read_s = time.perf_counter() - started
    texts, labels = parts.validation
    texts, labels = texts[:reviews], labels[:reviews]
    cfg = run.config
    ids = encode(texts, run.vocab, cfg.max_len, cfg.drop_oov, length=cfg.max_len)
    keep = lengths(ids) > 0  # a review with no word the model knows has no end to count from
    if not keep.any():
        raise DataFileError(f"{run.path}: none of the first {len(texts):,} {parts.source} has "
                            f"a word the model knows: there is no memory to measure")
    report = {"model": str(run.path), "source": parts.source, "reviews": int(keep.sum()),
              "reviews_without_known_words": int((~keep).sum()), "max_len": cfg.max_len,
              "split_checked": parts.checked, **memory_curves(model, ids[keep])}
    if probe:
        from sentiment_rnn.inspection.probe import run_probe

        report["probe"] = run_probe(model, run.vocab, cfg, texts, labels, *parts.train)
    report["seconds"] = {"reading": round(read_s, 1),
                         "measuring": round(time.perf_counter() - started - read_s, 1)}
    return report


def _number(value, spec: str) -> str:
    return format("-", ">" + spec.split(".")[0]) if value is None else format(value, spec)


def _half_life_text(curve: dict) -> str:
    h = curve["half_life"]
    if h is not None:
        return f"{h:.1f} words"
    return "not fitted (fewer than 2 k)" if curve.get("slope") is None else "no decay"


def format_memory(report: dict) -> str:
    """`inspect --memory` as text: the curves at the leave-one-out grid's k, the half-lives,
    then the probe's accuracy against k."""
    g, loo = report["gradient"], report["leave_one_out"]
    lines = [f"Model: {report['model']}",
             f"Memory over {report['reviews']:,} {report['source']} (the split checked against "
             f"training's: {report['split_checked']})", "",
             f"{'k':>5}  {'mean |d logit / d x|':>20}  {'mean |dP|':>10}  {'reviews':>7}"]
    for k, change, n in zip(loo["k"], loo["mean_abs_change"], loo["reviews"]):
        lines.append(f"{k:>5}  {_number(g['mean_norm'][k - 1], '20.3e')}  "
                     f"{_number(change, '10.4f')}  {n:>7,}")
    lines += ["(k = 1 is the last word read; the gradient at every k is in --json)", "",
              f"Half-life: gradient {_half_life_text(g)}, leave-one-out {_half_life_text(loo)}",
              f"  ({HALF_LIFE_METHOD}: gradient k = {_fit(g)}, leave-one-out k = {_fit(loo)})"]
    probe = report.get("probe")
    if probe is not None:
        share = probe["positive_share"]
        lines += ["", f"Probe: {probe['sentences']:,} verdict sentences from the "
                      f"{probe['of_reviews']:,} reviews"
                      f"{'' if share is None else f' ({share:.0%} positive)'}, each followed by "
                      f"k neutral words (accuracy: the mean over {probe['draws']} filler "
                      f"draws)", f"{'k':>5}  {'accuracy':>8}  {'lowest':>6}  {'highest':>7}  "
                      f"{'positive':>8}  {'negative':>8}  {'sentences':>9}"]
        for row in probe["rows"]:
            lines.append(f"{row['k']:>5}  {_number(row['accuracy'], '8.3f')}  "
                         f"{_number(row['lowest'], '6.3f')}  {_number(row['highest'], '7.3f')}  "
                         f"{_number(row['positive'], '8.3f')}  "
                         f"{_number(row['negative'], '8.3f')}  {row['sentences']:>9,}")
        words = ", ".join(n["word"] for n in probe["neutral_words"][:10])
        lines.append(f"Neutral words (first {min(10, len(probe['neutral_words']))} of "
                     f"{len(probe['neutral_words'])}): {words}")
        if probe["left_out"]:
            lines.append(f"At k = {', '.join(map(str, probe['left_out']))} some sentences with "
                         f"the k words do not fit in max_len {report['max_len']}: left out")
    return "\n".join(lines)


def _fit(curve: dict) -> str:
    return "-" if curve["fit_k"] is None else f"{curve['fit_k'][0]}..{curve['fit_k'][1]}"
