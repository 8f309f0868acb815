"""The end of the flow, for people: probabilities -> breakdowns, tables, metrics.json and pictures.

    text -> tokens -> ids -> model -> probability -> metrics, accuracy by length, OOV share,
                                                     baselines -> table, metrics.json, PNGs

`evaluate_texts` scores a run on labelled texts (a user's file or the IMDB test split);
`write_report` writes metrics.json and the confusion-matrix, ROC and calibration pictures;
`write_learning_curves` draws a run's per-epoch history. Pictures are drawn on matplotlib's Agg
canvas (no display, no pyplot state) and every file is written atomically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .evaluate import format_table, metrics
from .runs import write_atomic, write_json_atomic
from .text import tokenize

LENGTH_EDGES = (25, 50, 100, 200, 400)  # upper ends of the length buckets, in tokens
CALIBRATION_BINS = 10  # equal-width probability bins for the reliability diagram
REPORT_FILES = ("metrics.json", "confusion_matrix.png", "roc_curve.png", "calibration.png")


def length_buckets(n_tokens: np.ndarray, correct: np.ndarray) -> list[dict]:
    """Reviews and accuracy per length bucket (1-25, 26-50, ..., 401+ tokens); empty ones are
    left out."""
    edges = (0, *LENGTH_EDGES, math.inf)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (n_tokens > lo) & (n_tokens <= hi)
        if inside.any():
            rows.append({"tokens": f"{lo + 1}-{hi}" if hi < math.inf else f"{lo + 1}+",
                         "reviews": int(inside.sum()), "accuracy": float(correct[inside].mean())})
    return rows


def calibration_bins(labels: np.ndarray, probs: np.ndarray, bins: int = CALIBRATION_BINS):
    """Per probability bin: reviews, mean predicted probability, observed share of positives."""
    which = np.minimum((np.asarray(probs) * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append({"from": b / bins, "to": (b + 1) / bins, "reviews": int(inside.sum()),
                         "mean_probability": float(probs[inside].mean()),
                         "positive_share": float(labels[inside].mean())})
    return rows


def expected_calibration_error(rows: list[dict]) -> float:
    n = sum(r["reviews"] for r in rows)
    return sum(r["reviews"] / n * abs(r["mean_probability"] - r["positive_share"]) for r in rows)


@dataclass
class Evaluation:
    source: str  # what was scored, for the table's heading
    labels: np.ndarray  # (n,) 1 = positive
    probs: np.ndarray  # (n,) P(positive) from the run
    metrics: dict  # evaluate.metrics
    by_length: list[dict] | None = None  # length_buckets, for a user's file
    oov: dict | None = None  # out-of-vocabulary tokens, for a user's file
    baselines: list = field(default_factory=list)  # (baselines.Baseline, its metrics)
    skipped: int = 0  # malformed rows skipped with --skip-bad

    def to_json(self) -> dict:
        """The metrics, plus what else was computed; NaN written as null."""
        out = dict(self.metrics)
        if self.by_length is not None:
            out.update(by_length=self.by_length, oov=self.oov, skipped_rows=self.skipped)
        if self.baselines:
            out["baselines"] = {b.key: {"name": b.name, **b.details, "metrics": m}
                                for b, m in self.baselines}
        return _finite(out)

    def format(self) -> str:
        parts = [format_table(self.metrics)]
        if self.by_length is not None:
            lines = ["accuracy by review length", f"{'tokens':<8} {'reviews':>8} {'accuracy':>8}"]
            lines += [f"{r['tokens']:<8} {r['reviews']:>8,} {r['accuracy']:>8.4f}"
                      for r in self.by_length]
            o = self.oov
            lines += ["", f"out-of-vocabulary tokens: {o['share']:.2%} "
                          f"({o['tokens']:,} of {o['total']:,})"]
            parts.append("\n".join(lines))
        if self.baselines:
            rows = [("RNN (this model)", self.metrics)] + [(b.name, m) for b, m in self.baselines]
            w = max(len(name) for name, _ in rows)
            lines = ["baselines on the same data (trained on the run's training part)",
                     f"{'model':<{w}} {'accuracy':>8} {'f1':>6} {'roc auc':>7} {'loss':>6}"]
            lines += [f"{name:<{w}} {m['accuracy']:>8.4f} {m['f1']:>6.4f} {m['auc']:>7.4f} "
                      f"{m['loss']:>6.4f}" for name, m in rows]
            parts.append("\n".join(lines))
        return "\n\n".join(parts)


def _finite(value):
    """JSON has no NaN: nested floats that are not finite become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def evaluate_texts(run_dir, texts: list[str], labels: np.ndarray, source: str,
                   backend: str | None = None, data_dir=None, breakdown: bool = True,
                   with_baselines: bool = False) -> Evaluation:
    """Score the run on labelled texts; with breakdown, by length and OOV share; with
    with_baselines, the baselines too (they read the IMDB train split from data_dir)."""
    from .predict import Predictor

    predictor = Predictor(run_dir, backend)
    labels = np.asarray(labels)
    ids = predictor.ids(texts)  # (texts, longest), the ids the RNN and the baselines read
    probs = predictor.predict_ids(ids)
    ev = Evaluation(source, labels, probs, metrics(labels, probs))
    if breakdown:
        tokens = [tokenize(t) for t in texts]
        n_tokens = np.array([len(t) for t in tokens])
        ev.by_length = length_buckets(n_tokens, (probs >= 0.5) == (labels == 1))
        index = predictor.run.vocab.index
        oov = sum(1 for ts in tokens for t in ts if t not in index)
        total = int(n_tokens.sum())
        ev.oov = {"tokens": oov, "total": total, "share": oov / total if total else 0.0}
    if with_baselines:
        from .baselines import baselines

        ev.baselines = [(b, metrics(labels, b.probs))
                        for b in baselines(predictor.run, ids, data_dir)]
    return ev


def run_evaluation(run_dir, data_file=None, skip_bad: bool = False, data_dir=None,
                   backend: str | None = None, with_baselines: bool = False) -> Evaluation:
    """`evaluate_texts` on a user's labelled file (with the length and OOV breakdown), or on
    the IMDB test split when there is none."""
    if data_file is None:
        from .data import load_split

        texts, labels = load_split("test", data_dir)
        return evaluate_texts(run_dir, texts, labels, "IMDB test split", backend, data_dir,
                              breakdown=False, with_baselines=with_baselines)
    from .files import read_labelled

    found = read_labelled(data_file, skip_bad)
    source = f"Data: {data_file} ({found.format.upper()}, {len(found.texts):,} labelled texts"
    if found.skipped:
        rows = "row" if found.skipped == 1 else "rows"
        source += (f"; skipped {found.skipped:,} malformed {rows}, the first at "
                   f"{found.first_skipped}")
    ev = evaluate_texts(run_dir, found.texts, found.labels, source + ")", backend, data_dir,
                        breakdown=True, with_baselines=with_baselines)
    ev.skipped = found.skipped
    return ev


# ---- pictures ----------------------------------------------------------------------------------

def _figure(width: float = 5.0, height: float = 4.0, **kwargs):
    """A matplotlib Figure on the Agg canvas (PNG without a display), 100 dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png"))
    return path


def plot_confusion_matrix(m: dict, path: Path) -> Path:
    cm = np.array(m["confusion_matrix"])  # rows: true, columns: predicted
    fig = _figure(4.5, 4)
    ax = fig.add_subplot()
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)  # of each true class
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, f"{count:,}\n{share[i, j]:.1%}", ha="center", va="center",
                color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks([0, 1], ["negative", "positive"])
    ax.set_yticks([0, 1], ["negative", "positive"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (percentages of the row)")
    ax.set_title(f"Confusion matrix (accuracy {m['accuracy']:.3f})")
    return _save(fig, path)


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates, one point per distinct score from high to low."""
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    s, y = np.asarray(scores)[order], np.asarray(labels)[order]
    ends = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each run of ties
    tps, fps = np.cumsum(y)[ends], np.cumsum(1 - y)[ends]
    return np.r_[0, fps / max(fps[-1], 1)], np.r_[0, tps / max(tps[-1], 1)]


def plot_roc(labels: np.ndarray, probs: np.ndarray, m: dict, path: Path) -> Path:
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    if 0 < labels.sum() < len(labels):
        fpr, tpr = roc_curve(labels, probs)
        ax.plot(fpr, tpr, label=f"RNN (AUC {m['auc']:.3f})")
        (tn, fp), (fn, tp) = m["confusion_matrix"]
        ax.plot(fp / (tn + fp), tp / (fn + tp), "o", label="threshold 0.5")
    else:
        ax.text(0.5, 0.3, "needs both classes", ha="center")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate",
           ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_calibration(rows: list[dict], path: Path) -> Path:
    fig = _figure(5, 5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    top.plot([r["mean_probability"] for r in rows], [r["positive_share"] for r in rows], "o-",
             label="RNN")
    top.set(ylim=(0, 1), ylabel="share of positives",
            title=f"Calibration (ECE {expected_calibration_error(rows):.3f})")
    top.legend(loc="upper left")
    width = 1 / CALIBRATION_BINS
    bottom.bar([r["from"] for r in rows], [r["reviews"] for r in rows], width=width * 0.9,
               align="edge")
    bottom.set(xlim=(0, 1), xlabel="predicted probability of positive", ylabel="reviews")
    return _save(fig, path)


def write_report(folder: str | Path, ev: Evaluation, model: str | Path) -> list[Path]:
    """metrics.json and the three pictures in `folder` (made if missing); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = calibration_bins(ev.labels, ev.probs)
    data = {"model": str(model), "data": ev.source, "threshold": 0.5,
            "calibration": {"bins": rows, "expected_calibration_error":
                            expected_calibration_error(rows)}, **ev.to_json()}
    paths = [folder / name for name in REPORT_FILES]
    write_json_atomic(paths[0], _finite(data))
    plot_confusion_matrix(ev.metrics, paths[1])
    plot_roc(ev.labels, ev.probs, ev.metrics, paths[2])
    plot_calibration(rows, paths[3])
    return paths


def write_learning_curves(history: list[dict], path: str | Path, echo=None) -> Path | None:
    """Loss and accuracy per epoch, training and validation, from a run's history.json entries;
    nothing when no epoch has finished. Says where it wrote with `echo`."""
    if not history:
        return None
    epochs = [h["epoch"] for h in history]
    fig = _figure(9, 3.6)
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        ax.plot(epochs, [h[key] for h in history], "o-", label="training")
        if all(f"val_{key}" in h for h in history):
            ax.plot(epochs, [h[f"val_{key}"] for h in history], "o-", label="validation")
        ax.set(xlabel="epoch", ylabel=key, title=key.capitalize())
        ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: len(epochs) // 10 + 1])
        ax.grid(alpha=0.3)
        ax.legend()
    path = _save(fig, Path(path))
    if echo is not None:
        echo(f"Learning curves: {path}")
    return path
