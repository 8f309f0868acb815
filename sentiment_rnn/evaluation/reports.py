"""Writing an evaluation down: an `evaluate.Evaluation` -> metrics.json and three pictures.

    probability -> metrics (evaluation.py) -> report folder: metrics.json, confusion_matrix.png,
                                                           roc_curve.png, calibration.png

The report is written all or nothing: every file goes into a temporary folder beside the target,
which is renamed into place only when all four are complete, so a full disk or a kill leaves
either the old report or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sentiment_rnn.errors import SentimentRNNError
from sentiment_rnn.evaluation.metrics import ECE_NAME, calibration_bins, expected_calibration_error, finite
from sentiment_rnn.evaluation.evaluate import Evaluation
from sentiment_rnn.evaluation.plots import plot_calibration, plot_confusion_matrix, plot_roc
from sentiment_rnn.files.atomic import current_umask, write_json_atomic

REPORT_FILES = ("metrics.json", "confusion_matrix.png", "roc_curve.png", "calibration.png")


def _report_data(ev: Evaluation, model: str | Path) -> dict:
    """What metrics.json holds: the evaluation, the model and data, and the calibration."""
    rows = calibration_bins(ev.labels, ev.probs)
    return finite({"model": str(model), "data": ev.source, "threshold": 0.5,
                   "calibration": {"measure": ECE_NAME, "bins": rows,
                                   "expected_calibration_error": expected_calibration_error(rows)},
                   **ev.to_json()})


def _write_files(folder: Path, ev: Evaluation, model) -> None:
    paths = [folder / name for name in REPORT_FILES]
    write_json_atomic(paths[0], _report_data(ev, model))
    plot_confusion_matrix(ev.metrics, paths[1])
    plot_roc(ev.labels, [("RNN", ev.probs, ev.metrics)]
             + [(b.name.split(" + ")[0], b.probs, m) for b, m in ev.baselines
                if b.key != "majority_class"], paths[2])
    plot_calibration(ev.labels, [("RNN", ev.probs)]
                     + [(b.name.split(" + ")[0], b.probs) for b, _ in ev.baselines
                        if b.key != "majority_class"], paths[3])


def write_report(folder: str | Path, ev: Evaluation, model: str | Path) -> list[Path]:
    """metrics.json and the three pictures in `folder`, all or nothing; returns their paths.

    An existing report folder is swapped for the new one; a folder that also holds other
    files keeps them, and only our four files are replaced, each atomically."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SentimentRNNError(f"{folder}: not a folder; give --report a folder name")
    if (folder / "state.json").exists() or (folder / "config.json").exists():
        raise SentimentRNNError(f"{folder}: is a run folder; write the report into another "
                                f"folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    old = None
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes 0700; the usual mode instead
    try:
        _write_files(staging, ev, model)
        if folder.exists() and set(os.listdir(folder)) <= set(REPORT_FILES):
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old",
                                        dir=folder.parent))
            os.rename(folder, old / "report")
        if not folder.exists():
            os.rename(staging, folder)  # all four appear at once
        else:  # the user's folder holds other files too: replace ours, each atomically
            for name in REPORT_FILES:
                os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return [folder / name for name in REPORT_FILES]
