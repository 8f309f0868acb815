"""Measure each training lever's effect on *validation* accuracy (never the test split).

Trains the default configuration and one variant per lever on the IMDB train split (validation =
its last 20%), and prints a Markdown table: best validation accuracy, the short-text check (the
last sentence of each validation review with its label, evaluation/short_texts.py), the dozen
short reviews of examples/reviews.csv, the 24 negation and contrast sentences of
examples/negation.csv, the 140 of examples/contrast.csv, the human-rated film and product
review sentences of the VADER study (snippets.py: they judge only, they choose nothing), best
epoch, wall time. `--score` scores finished run folders the same way.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/levers.py [--seeds 42] [--only NAME]
    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/levers.py --score RUN [RUN ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.prediction.predictor import Predictor
from sentiment_rnn.files.readers import read_labelled
from sentiment_rnn.evaluation.short_texts import short_texts
from sentiment_rnn.training.train import train

import snippets  # benchmarks/snippets.py, beside this file

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# 0.3.0's and 0.4.0's rows read whole texts only and kept no word list (BEFORE_0_5)
OLD = {"vocab_keep": (), "teacher_sentences": 0}
LEVERS_0_5 = {
    "default: everyday words kept in the vocabulary; the teacher learns two sentences of each "
    "training review too, and labels two sentences of each review for the RNN": {},
    "0.4.0's default (no word list, whole reviews only)": OLD,
    "everyday words kept, whole reviews only": {"teacher_sentences": 0},
    "everyday words kept, two sentences of each unlabelled review (the teacher learns "
    "reviews only)": {"labelled_sentences": False},
    "everyday words kept, four sentences of each unlabelled review (the teacher learns "
    "reviews only)": {"labelled_sentences": False, "teacher_sentences": 4},
    "sentence vocabulary (label-aware over sentences), df ** 1": {"vocab_unit": "sentence",
                                                                  "vocab_df_power": 1.0},
    "pair-aware vocabulary (a word scores as its best pair too)": {"vocab_method": "pair-aware"},
}
LEVERS_0_3 = {
    "default (NB-weighted TF-IDF teacher on the unlabelled split, weight average 0.99, "
    "label-aware vocabulary with df ** 0.75, OOV dropped, last 200 ids, Adam 1e-3, clipnorm 1, "
    "batch 128, length buckets)": {},  # the df power and the average follow the teacher
    "no teacher (--teacher none: 0.2.0's training, sqrt(df) vocabulary)": {"teacher": "none"},
    "no teacher, vocabulary with df ** 0.75": {"teacher": "none", "vocab_df_power": 0.75},
    "no teacher, df ** 0.75, weight average 0.99": {"teacher": "none", "vocab_df_power": 0.75,
                                                    "ema_momentum": 0.99},
    "plain TF-IDF teacher (no naive-Bayes scaling)": {"teacher": "tfidf"},
    "teacher, no weight average": {"ema_momentum": 0.0},
    "teacher, weight average 0.999": {"ema_momentum": 0.999},
    "teacher, vocabulary with sqrt(df) (0.2's)": {"vocab_df_power": 0.5},
    "teacher, vocabulary with df ** 1": {"vocab_df_power": 1.0},
    "teacher, vocabulary: 998 most frequent words": {"vocab_method": "frequency"},
    "teacher, learning rate 5e-4, patience 3": {"learning_rate": 5e-4, "patience": 3},
    "teacher, max-len 400": {"max_len": 400},
}
LEVERS = {**LEVERS_0_5, **{name: {**OLD, **changes} for name, changes in LEVERS_0_3.items()}}


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Share right; a text with no known word (NaN, "unknown") counts as wrong."""
    right = np.where(np.isnan(probs), False, (probs >= 0.5) == labels)
    return float(np.mean(right))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--only", nargs="*", help="substrings of lever names to run")
    parser.add_argument("--out", type=Path, help="append JSON lines of results here")
    parser.add_argument("--keep", type=Path, help="keep each run folder in this folder")
    parser.add_argument("--score", type=Path, nargs="+", metavar="RUN",
                        help="score these finished run folders instead of training")
    parser.add_argument("--no-snippets", action="store_true",
                        help="leave out the VADER sentences (benchmarks/snippets.py)")
    args = parser.parse_args()
    short, short_y = short_texts(TrainConfig())  # the same validation part for every lever
    checks = {name: read_labelled(EXAMPLES / f"{name}.csv")
              for name in ("reviews", "negation", "contrast")}
    checks = {name: (found.texts, np.asarray(found.labels)) for name, found in checks.items()}
    if not args.no_snippets:
        checks.update(snippets.load())
    print(f"short-text check: {len(short_y):,} last sentences; "
          + "; ".join(f"{name}: {len(ys):,}" for name, (_, ys) in checks.items()))
    print("| lever | seed | best val. accuracy | short texts | "
          + " | ".join(checks) + " | best epoch | epochs run | train time (s) |")
    print("|---" * (7 + len(checks)) + "|")
    for run in args.score or ():
        state = json.loads((run / "state.json").read_text())
        seed = json.loads((run / "config.json").read_text())["config"]["seed"]
        scores = _scores(Predictor(run), {"short texts": (short, short_y), **checks})
        _report({"lever": str(run), "seed": seed, "val_accuracy": state["best_val_accuracy"],
                 **scores, "best_epoch": state["best_epoch"], "epochs": state["epoch"]},
                 scores, args.out)
    if args.score:
        return
    for name, changes in LEVERS.items():
        if args.only and not any(s in name for s in args.only):
            continue
        for seed in args.seeds:
            config = TrainConfig(seed=seed, **changes)
            with tempfile.TemporaryDirectory() as tmp:
                folder = args.keep / f"{_slug(name)}-{seed}" if args.keep else Path(tmp) / "run"
                started = time.perf_counter()
                result = train(config, folder, models_dir=Path(tmp) / "models",
                               echo=lambda *a: None, verbose=0)
                seconds = time.perf_counter() - started
                scores = _scores(Predictor(result.run_dir),
                                 {"short texts": (short, short_y), **checks})
            _report({"lever": name, "seed": seed, "val_accuracy": result.best_val_accuracy,
                     **scores, "best_epoch": result.best_epoch, "epochs": result.epochs_run,
                     "seconds": round(seconds, 1)}, scores, args.out)


def _scores(model, sets: dict) -> dict:
    """Accuracy on each (texts, labels) set, rounded to 4 places."""
    return {k: round(accuracy(model.predict(texts), ys), 4) for k, (texts, ys) in sets.items()}


def _report(row: dict, scores: dict, out: Path | None) -> None:
    """One Markdown table row, and a JSON line appended to `out`."""
    print(f"| {row['lever']} | {row['seed']} | {row['val_accuracy']:.4f} | "
          + " | ".join(f"{v:.4f}" for v in scores.values())
          + f" | {row['best_epoch']} | {row['epochs']} | {row.get('seconds', '')} |", flush=True)
    if out:
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name).split())[:60]


if __name__ == "__main__":
    sys.exit(main())
