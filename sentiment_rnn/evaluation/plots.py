"""Pictures at the end of the flow: probabilities and histories -> PNG files.

    learning curves (train)    confusion matrix, ROC, calibration (evaluate --report)
    running P(positive) above a heatmap of h_t (inspect --plot)

Drawn on matplotlib's Agg canvas directly (no display, no pyplot global state); every file is
written atomically, so a failed write leaves no half picture.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import InputTextError
from sentiment_rnn.evaluation.metrics import CALIBRATION_BINS, calibration_bins, expected_calibration_error
from sentiment_rnn.files.atomic import write_atomic

MAX_LABELS = 120  # most words written on a trace's axis; longer texts label every k-th word

# The one colour scale of "this word moved P(positive) up / down": serve's page (its chips and
# chart, given colour_scale() as JSON), trace_figure (Trace.plot, inspect --plot) and
# Trace._repr_html_. The colour says the direction, its opacity how far P moved.
MOVE_UP = (26, 140, 72)  # green: the word raised P(positive)
MOVE_DOWN = (205, 45, 40)  # red: it lowered P(positive)
MOVE_FULL = 0.25  # a move of this size or more is drawn fully opaque
MOVE_FLOOR = 0.12  # the opacity of no move at all: every word read shows some colour
WHITE_TEXT = 0.62  # from this opacity on, a word is written in white on its colour
STATE_LOW, STATE_HIGH = (94, 60, 153), (200, 95, 10)  # h_t = -1 purple, 0 white, +1 orange
IG_FULL = 1.0  # logit: the page's second colouring, by integrated gradients, is fully opaque here


def move_colour(change: float) -> tuple[int, int, int, float]:
    """(r, g, b, opacity) of a change in P(positive): MOVE_UP or MOVE_DOWN, opacity MOVE_FLOOR
    plus the rest in proportion to sqrt(|change| / MOVE_FULL), capped at 1; 3 decimals."""
    opacity = MOVE_FLOOR + (1 - MOVE_FLOOR) * math.sqrt(min(1.0, abs(change) / MOVE_FULL))
    return (*(MOVE_UP if change >= 0 else MOVE_DOWN), round(opacity, 3))


def colour_scale() -> dict:
    """The scale as JSON for serve's page."""
    return {"up": list(MOVE_UP), "down": list(MOVE_DOWN), "full": MOVE_FULL, "floor": MOVE_FLOOR,
            "white_text": WHITE_TEXT, "state_low": list(STATE_LOW), "state_high": list(STATE_HIGH),
            "ig_full": IG_FULL}


def _state_colours():
    """h_t's colour map, as on the page: STATE_LOW at -1, white at 0, STATE_HIGH at +1."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(
        "h_t", [tuple(c / 255 for c in STATE_LOW), (1, 1, 1), tuple(c / 255 for c in STATE_HIGH)])


def _figure(width: float = 5.0, height: float = 4.0, **kwargs):
    """A matplotlib Figure on the Agg canvas (PNG without a display), 100 dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    write_atomic(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
    return Path(path)


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


def plot_roc(labels: np.ndarray, curves: list[tuple[str, np.ndarray, dict]], path: Path) -> Path:
    """One ROC curve per (name, probabilities, metrics); the first is the RNN, whose 0.5
    threshold is marked."""
    from sklearn.metrics import roc_curve

    fig = _figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    if 0 < labels.sum() < len(labels):
        for i, (name, probs, m) in enumerate(curves):
            fpr, tpr, _ = roc_curve(labels, probs)
            ax.plot(fpr, tpr, linewidth=1.6 if i == 0 else 1.0,
                    label=f"{name} (AUC {m['auc']:.3f})")
        (tn, fp), (fn, tp) = curves[0][2]["confusion_matrix"]
        ax.plot(fp / (tn + fp), tp / (fn + tp), "o", label="RNN at threshold 0.5")
    else:
        ax.text(0.5, 0.3, "needs both classes", ha="center")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate",
           ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right", fontsize=7)
    return _save(fig, path)


def plot_calibration(labels: np.ndarray, curves: list[tuple[str, np.ndarray]], path: Path) -> Path:
    """Reliability diagram of each (name, probabilities), the first being the RNN, over
    CALIBRATION_BINS equal-width bins, with the RNN's reviews per bin below."""
    fig = _figure(5, 5.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    for name, probs in curves:
        rows = calibration_bins(labels, probs)
        top.plot([r["mean_probability"] for r in rows], [r["positive_share"] for r in rows],
                 "o-", markersize=3, label=f"{name} (ECE {expected_calibration_error(rows):.3f})")
    top.set(ylim=(0, 1), ylabel="share of positives",
            title=f"Calibration: expected calibration error (ECE)\nof P(positive), "
                  f"{CALIBRATION_BINS} equal-width bins")
    top.legend(loc="upper left", fontsize=7)
    rows = calibration_bins(labels, curves[0][1])
    width = 1 / CALIBRATION_BINS
    bottom.bar([r["from"] for r in rows], [r["reviews"] for r in rows], width=width * 0.9,
               align="edge")
    bottom.set(xlim=(0, 1), xlabel="predicted probability of positive", ylabel="RNN reviews")
    return _save(fig, path)


def plot_learning_curves(history: list[dict], path: str | Path,
                         best_epoch: int | None = None) -> Path | None:
    """Loss and accuracy per epoch, training and validation, from a run's history; with a
    teacher also the training agreement with the teacher (`teacher_agreement`) beside the
    accuracy on the labelled rows; the best epoch (the one kept) is marked. Histories written
    before `teacher_agreement` existed plot as they were logged. Nothing when no epoch has
    finished."""
    if not history:
        return None
    epochs = [h["epoch"] for h in history]
    taught = all("teacher_agreement" in h for h in history)
    panels = {"loss": [("loss", "training"), ("val_loss", "validation")],
              "accuracy": [("accuracy", "training, labelled reviews" if taught else "training"),
                           ("teacher_agreement", "training, agreement with the teacher"),
                           ("val_accuracy", "validation")]}
    fig = _figure(9, 3.6)
    for ax, (title, lines) in zip(fig.subplots(1, 2), panels.items()):
        for key, name in lines:
            if all(key in h for h in history):
                ax.plot(epochs, [h[key] for h in history], "o-", label=name)
        if best_epoch:
            ax.axvline(best_epoch, color="grey", linestyle="--", linewidth=1,
                       label=f"best epoch ({best_epoch}, kept)")
        ax.set(xlabel="epoch", ylabel=title, title=title.capitalize())
        ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: len(epochs) // 10 + 1])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, Path(path))


def plot_trace(report: dict, path: str | Path) -> Path:
    """`trace_figure` written to a PNG file."""
    return _save(trace_figure(report), path)


def trace_figure(report: dict):
    """A trace from `inside.trace`: running P(positive) over the words read, each dot coloured
    by how its word moved P (move_colour), above a heatmap of the hidden state h_t (units x
    time) on the same word axis. A matplotlib Figure."""
    read = [r for r in report["tokens"] if r["status"] == "read"]
    if not read:
        raise InputTextError("no word of the text is in the vocabulary, so there is nothing to plot")
    words = [r["word"] for r in read]
    probs = np.array([r["probability"] for r in read])  # (time,)
    states = np.array([r["h"] for r in read])  # (time, units)
    steps = np.arange(1, len(read) + 1)

    fig = _figure(min(40.0, max(8.0, 2.5 + 0.28 * len(read))), 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.6])
    top.axhspan(0.5, 1, color=[c / 255 for c in MOVE_UP], alpha=0.06, linewidth=0)
    top.axhspan(0, 0.5, color=[c / 255 for c in MOVE_DOWN], alpha=0.06, linewidth=0)
    top.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    top.plot(np.r_[0, steps], np.r_[report["start_probability"], probs], color="black",
             linewidth=1.2)
    changes = np.diff(np.r_[report["start_probability"], probs])
    dots = [(r / 255, g / 255, b / 255, a) for r, g, b, a in map(move_colour, changes)]
    top.scatter(steps, probs, c=dots, edgecolors="#3b4757", linewidths=0.6, s=24, zorder=3)
    top.set_ylim(0, 1)
    top.set_ylabel("P(positive)")
    final = report["probability"]
    top.set_title(f"P(positive | words so far): "
                  f"{'no known word' if final is None else f'{final:.3f}'} "
                  f"({report['label']}) after {len(read)} words")

    image = bottom.imshow(states.T, aspect="auto", cmap=_state_colours(), vmin=-1, vmax=1,
                          interpolation="nearest",
                          extent=(0.5, len(read) + 0.5, states.shape[1] - 0.5, -0.5))
    bottom.set_ylabel("hidden unit")
    bottom.set_xlabel("word (time step)")
    every = math.ceil(len(read) / MAX_LABELS)
    bottom.set_xticks(np.r_[0, steps[::every]], ["(start)", *words[::every]], rotation=90,
                      fontsize=8)
    bottom.set_xlim(0, len(read) + 0.5)
    fig.colorbar(image, ax=[top, bottom], label="h_t", shrink=0.6)
    return fig


def plot_memory(report: dict, path: str | Path) -> Path:
    """`memory_figure` written to a PNG file."""
    return _save(memory_figure(report), path)


def memory_figure(report: dict):
    """`inspect --memory`'s report: the mean gradient norm and the mean leave-one-out |dP| by
    distance k from the end, on a log y axis, with their half-lives; beside them, when the
    report has one, the probe's accuracy against k. A matplotlib Figure."""
    g, loo, probe = report["gradient"], report["leave_one_out"], report.get("probe")
    fig = _figure(10.0 if probe else 6.0, 4.0)
    axes = fig.subplots(1, 2 if probe else 1, squeeze=False)[0]
    for curve, key, name, colour in ((g, "mean_norm", "mean |d logit / d x|", "#1f5fa8"),
                                     (loo, "mean_abs_change", "mean leave-one-out |dP|",
                                      "#c05a10")):
        points = [(k, v) for k, v in zip(curve["k"], curve[key]) if v is not None and v > 0]
        h = curve["half_life"]
        label = f"{name} (half-life {'-' if h is None else f'{h:.1f}'} words)"
        if points:
            axes[0].plot(*zip(*points), color=colour, linewidth=1.3, label=label)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("k: words before the end (1 = the last word read)")
    axes[0].set_title(f"How far back it remembers ({report['reviews']:,} {report['source']})",
                      fontsize=9)
    axes[0].legend(fontsize=8, loc="lower left")
    if probe:
        rows = [r for r in probe["rows"] if r["accuracy"] is not None]
        axes[1].plot([r["k"] for r in rows], [r["accuracy"] for r in rows], "o-", color="black",
                     label=f"mean of {probe.get('draws', 1)} filler draws")
        share = probe.get("positive_share")
        if share is not None:  # what a model that always says the larger label would score
            axes[1].axhline(max(share, 1 - share), color="grey", linewidth=0.8, linestyle="--",
                            label="always the larger label")
        axes[1].legend(fontsize=8, loc="lower left")
        axes[1].set_ylim(0, 1)
        axes[1].set_xlabel("k neutral words after the verdict sentence")
        axes[1].set_ylabel("accuracy")
        axes[1].set_title(f"Probe: {probe['sentences']:,} verdict sentences", fontsize=9)
    return fig
