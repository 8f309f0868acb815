"""Integrated gradients on a run's validation reviews: the completeness error and the time.

docs/inspect.md ("Which words moved the verdict") quotes this script's output:

    python benchmarks/attribution.py --model models/seed-42 [--reviews 200]

The reviews are the first N of the validation part of the run's training data, split as training
split it (never the test split); each is read as the model reads it (Model.ids). The time is
attribution.attribute alone, per review, on the reviews of max_len words (after two untimed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import sentiment_rnn as sr
from sentiment_rnn.data.prepare import labelled_texts
from sentiment_rnn.inspection.attribution import TOLERANCE, attribute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/latest"))
    parser.add_argument("--reviews", type=int, default=200)
    args = parser.parse_args()
    model = sr.load(args.model)
    _, (texts, _) = labelled_texts(model.config)
    seqs = [ids for ids in (np.array(model.ids(t)) for t in texts[:args.reviews]) if len(ids)]
    full = [ids for ids in seqs if len(ids) == model.config.max_len]
    for ids in full[:2]:
        attribute(model.weights, ids)  # warm up
    found, seconds = [], []
    for ids in seqs:
        started = time.perf_counter()
        found.append(attribute(model.weights, ids))
        seconds.append(time.perf_counter() - started)
    error = np.array([a["relative_error"] for a in found])
    steps = np.array([a["steps"] for a in found])
    long = np.array([s for s, ids in zip(seconds, seqs) if len(ids) == model.config.max_len])
    long_steps = np.array([a["steps"] for a, ids in zip(found, seqs)
                           if len(ids) == model.config.max_len])
    print(f"{len(seqs)} validation reviews of {args.model}: relative completeness error "
          f"max {error.max():.2e}, median {np.median(error):.2e}; within {TOLERANCE:.0%}: "
          f"{sum(a['ok'] for a in found)}/{len(found)}; intervals median "
          f"{np.median(steps):.0f}, max {steps.max()}")
    if len(long):
        print(f"{len(long)} of them of {model.config.max_len} words: IG in median "
              f"{np.median(long) * 1000:.0f} ms, max {long.max() * 1000:.0f} ms; intervals "
              f"median {np.median(long_steps):.0f}, max {long_steps.max()}")


if __name__ == "__main__":
    main()
