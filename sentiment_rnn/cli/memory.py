"""`inspect --memory`: how far back the model remembers, printed, as JSON, or plotted.

    run folder -> inspection.memory (validation reviews, curves, half-lives, probe) -> text / JSON
               -> evaluation.plots.plot_memory (--plot)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


def check_plot_path(path: Path | None, run_dir: Path | None = None) -> None:
    """Fail before the measuring starts when the picture could not be written, or would land
    inside the run folder (whose files, learning_curves.png among them, are training's)."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if run_dir is not None and folder.resolve().is_relative_to(Path(run_dir).resolve()):
        raise click.BadParameter(f"{path} is inside the run folder {run_dir}; write the "
                                 f"picture elsewhere", param_hint="--plot")
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder", param_hint="--plot")
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{folder} is not a folder", param_hint="--plot")
    if not folder.is_dir():
        raise click.BadParameter(f"the folder {folder} does not exist", param_hint="--plot")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.BadParameter(f"the folder {folder} is not writable", param_hint="--plot")


def inspect_memory(run_dir: Path, data_dir, reviews: int, plot: Path | None,
                   as_json: bool) -> None:
    """Measure, then print (text or JSON) and draw."""
    from sentiment_rnn.inspection.memory import format_memory, memory
    from sentiment_rnn.inspection.trace import load
    from sentiment_rnn.text.terminal import echo_text

    check_plot_path(plot, run_dir)
    run, model = load(run_dir)
    report = memory(run, model, reviews, data_dir)
    if plot is not None:
        from sentiment_rnn.evaluation.plots import plot_memory

        try:
            plot_memory(report, plot)
        except OSError as exc:
            raise click.ClickException(f"the plot could not be written to {plot}: "
                                       f"{exc.strerror or exc}") from None
    if as_json:
        click.echo(json.dumps(report, allow_nan=False))
    else:
        echo_text(format_memory(report) + (f"\nPlot: {plot}" if plot is not None else ""))
