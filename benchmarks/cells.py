"""The three cells' cost, side by side: a Keras training step and the NumPy forward pass.

docs/why-gates.md quotes this script's output:

    python benchmarks/cells.py [--rounds 5] [--steps 10]

Each cell's model is built with the default settings (1000 words, 32, 32; only --cell differs)
and trained on the same batch of 128 reviews of 200 ids (random, fixed seed; every review is
max_len long, the worst case of length buckets). The cells take turns, round after round, so a
machine whose load changes slows them alike: the ratios to the SimpleRNN are the robust numbers,
the milliseconds depend on the machine. The NumPy column is predict_proba on 1,000 such reviews.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sentiment_rnn.config import CELLS, TrainConfig  # noqa: E402
from sentiment_rnn.nn.keras_model import build_model, compile_model, weight_arrays  # noqa: E402
from sentiment_rnn.nn.numpy_cells import from_arrays  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="training steps per turn")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ids = rng.integers(2, 1000, size=(128, 200)).astype(np.int32)
    labels = rng.integers(0, 2, size=128).astype(np.float32)
    many = rng.integers(2, 1000, size=(1000, 200))
    models, numpy_models = {}, {}
    for cell in CELLS:
        config = TrainConfig(cell=cell)
        model = build_model(config)
        compile_model(model, config)
        model.train_on_batch(ids, labels)  # traced once, untimed
        models[cell] = model
        numpy_models[cell] = from_arrays(cell, {k: v.astype(np.float64)
                                                for k, v in weight_arrays(model).items()})
    step = {cell: [] for cell in CELLS}
    forward = {cell: [] for cell in CELLS}
    for _ in range(args.rounds):
        for cell in CELLS:
            started = time.perf_counter()
            for _ in range(args.steps):
                models[cell].train_on_batch(ids, labels)
            step[cell].append((time.perf_counter() - started) / args.steps)
            started = time.perf_counter()
            numpy_models[cell].predict_proba(many)
            forward[cell].append(time.perf_counter() - started)
    base = np.median(step["simple"]), np.median(forward["simple"])
    print(f"{'cell':<7} {'params':>7} {'train step (ms)':>16} {'x simple':>9} "
          f"{'NumPy 1,000 reviews (s)':>24} {'x simple':>9}")
    for cell in CELLS:
        s, f = np.median(step[cell]), np.median(forward[cell])
        print(f"{cell:<7} {TrainConfig(cell=cell).parameters:>7,} {s * 1000:>16.1f} "
              f"{s / base[0]:>9.2f} {f:>24.2f} {f / base[1]:>9.2f}")
    print(f"(medians of {args.rounds} rounds; load average at the end "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
