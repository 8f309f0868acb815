"""A trace from `inspect.trace` as a PNG: running P(positive) over the words, above h_t.

The top panel is P(positive | words so far) after each word the model read; the bottom panel is
a heatmap of the hidden state h_t (units x time) on the same word axis. Drawn with matplotlib's
Agg canvas directly, so no GUI backend and no pyplot global state are involved.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .errors import InputTextError, SentimentRNNError

MAX_LABELS = 120  # most words written on the axis; longer texts label every k-th word


def plot_trace(report: dict, path: str | Path) -> Path:
    """Write the trace's plot to `path` (PNG) and return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    read = [r for r in report["tokens"] if r["status"] == "read"]
    if not read:
        raise InputTextError("no word of the text is in the vocabulary, so there is nothing to plot")
    words = [r["word"] for r in read]
    probs = np.array([r["probability"] for r in read])  # (time,)
    states = np.array([r["h"] for r in read])  # (time, units)
    steps = np.arange(1, len(read) + 1)

    fig = Figure(figsize=(min(40.0, max(8.0, 2.5 + 0.28 * len(read))), 6.5),
                 layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.6])

    top.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    top.plot(np.r_[0, steps], np.r_[report["start_probability"], probs], color="black",
             linewidth=1.2)
    top.scatter(steps, probs, c=np.where(probs >= 0.5, "tab:green", "tab:red"), s=18, zorder=3)
    top.set_ylim(0, 1)
    top.set_ylabel("P(positive)")
    top.set_title(f"P(positive | words so far): {report['probability']:.3f} "
                  f"({report['label']}) after {len(read)} words")

    image = bottom.imshow(states.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1,
                          interpolation="nearest",
                          extent=(0.5, len(read) + 0.5, states.shape[1] - 0.5, -0.5))
    bottom.set_ylabel("hidden unit")
    bottom.set_xlabel("word (time step)")
    every = math.ceil(len(read) / MAX_LABELS)
    bottom.set_xticks(np.r_[0, steps[::every]], ["(start)", *words[::every]], rotation=90,
                      fontsize=8)
    bottom.set_xlim(0, len(read) + 0.5)
    fig.colorbar(image, ax=[top, bottom], label="h_t", shrink=0.6)

    try:
        fig.savefig(path, format="png", dpi=100)
    except OSError as exc:
        raise SentimentRNNError(f"cannot write the plot to {path} "
                                f"({exc.strerror or exc})") from None
    return Path(path)
