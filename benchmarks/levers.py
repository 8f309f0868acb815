"""Measure each training lever's effect on *validation* accuracy (never the test split).

Trains the default configuration and one variant per lever on the IMDB train split (validation =
its last 20%), and prints a Markdown table: best validation accuracy, best epoch, wall time.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/levers.py [--seeds 42] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.training import train

LEVERS = {
    "default (label-aware vocab, OOV dropped, last 200 tokens, Adam 1e-3, clipnorm 1, "
    "batch 128, length buckets)": {},
    "random batches instead of length buckets": {"length_buckets": False},
    "vocabulary: 998 most frequent words": {"vocab_method": "frequency"},
    "vocabulary: most frequent, OOV kept as id 1": {"vocab_method": "frequency", "drop_oov": False},
    "OOV kept as id 1 (label-aware vocabulary)": {"drop_oov": False},
    "max-len 100": {"max_len": 100},
    "max-len 300": {"max_len": 300},
    "max-len 400": {"max_len": 400},
    "no gradient clipping (clipnorm 1e6)": {"clipnorm": 1e6},
    "learning rate 3e-3": {"learning_rate": 3e-3},
    "learning rate 5e-4": {"learning_rate": 5e-4},
    "batch size 64": {"batch_size": 64},
    "batch size 256": {"batch_size": 256},
    "units 64": {"units": 64},
    "dropout 0.2 on x_t": {"dropout": 0.2},
    "recurrent dropout 0.2 on h_{t-1}": {"recurrent_dropout": 0.2},
    "patience 3 (more epochs before stopping)": {"patience": 3},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--only", nargs="*", help="substrings of lever names to run")
    parser.add_argument("--out", type=Path, help="append JSON lines of results here")
    args = parser.parse_args()
    print("| lever | seed | best val. accuracy | best epoch | epochs run | train time (s) |")
    print("|---|---|---|---|---|---|")
    for name, changes in LEVERS.items():
        if args.only and not any(s in name for s in args.only):
            continue
        for seed in args.seeds:
            config = TrainConfig(seed=seed, **changes)
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                result = train(config, Path(tmp) / "run", models_dir=Path(tmp) / "models",
                               echo=lambda *a: None, verbose=0)
                seconds = time.perf_counter() - started
            row = {"lever": name, "seed": seed, "val_accuracy": result.best_val_accuracy,
                   "best_epoch": result.best_epoch, "epochs": result.epochs_run,
                   "seconds": round(seconds, 1)}
            print(f"| {name} | {seed} | {row['val_accuracy']:.4f} | {row['best_epoch']} | "
                  f"{row['epochs']} | {row['seconds']} |", flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.exit(main())
