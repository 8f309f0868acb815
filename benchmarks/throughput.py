"""Reviews per second of each forward pass on the IMDB test reviews; one JSON line out.

The texts are encoded to ids once (not timed); each backend then scores the same ids, in the same
batches (sorted by length, 1024 reviews, each trimmed to its longest review):

  numpy          Predictor(run_dir, "numpy").predict_ids, the NumPy loop `predict` uses
  keras-graph    Predictor(run_dir, "keras").predict_ids as shipped: the run's Keras model
                 called inside one tf.function (a compiled graph), the fair comparison with NumPy
  keras-eager    for reference, the same model called eagerly, model(x), so Python steps the
                 RNN's while-loop (what `--backend keras` did before)

Each is warmed up once (tracing is not throughput), then timed over all the reviews; the median of
`--repeats` passes is reported.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/throughput.py RUN_DIR
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def keras_eager(model):
    """ids -> P(positive) calling the model eagerly over the same batches as the NumPy pass."""
    from sentiment_rnn.nn.batching import lengths, sorted_batches, trim

    def predict(ids: np.ndarray) -> np.ndarray:
        out = np.empty(len(ids))
        for rows in sorted_batches(lengths(ids), 1024):
            out[rows] = np.asarray(model(trim(ids[rows]), training=False)).reshape(-1)
        return out

    return predict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="first N test reviews only")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from sentiment_rnn import _tf
    from sentiment_rnn.data.imdb import load_split
    from sentiment_rnn.prediction.predictor import Predictor

    _tf.tensorflow()
    texts, _ = load_split("test", limit=args.limit)
    numpy_predictor = Predictor(args.run_dir, "numpy")
    keras_predictor = Predictor(args.run_dir, "keras")
    ids = numpy_predictor.ids(texts)
    backends = {"numpy": numpy_predictor.predict_ids,
                "keras-graph": keras_predictor.predict_ids,
                "keras-eager": keras_eager(keras_predictor.model)}
    result = {"reviews": len(texts), "repeats": args.repeats}
    probs = {}
    for name, predict in backends.items():
        predict(ids[:1024])  # warm-up
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            probs[name] = predict(ids)
            seconds.append(time.perf_counter() - started)
        result[name] = len(texts) / statistics.median(seconds)
    # the three must agree, or the speeds are not of the same computation
    result["max_abs_difference"] = float(max(np.abs(probs[n] - probs["numpy"]).max()
                                             for n in backends))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
