"""One table of the numbers that matter: accuracy, training time, speed and memory.

Runs, each as a real command in a fresh process: the default `sentiment-rnn train` (wall time,
peak memory, epoch times from the run's history), `benchmarks/plain_keras.py` (the same model fed
by TextVectorization in a tf.data map) for the epoch-time ratio, `sentiment-rnn evaluate` on the
25,000 test reviews, cold-start `sentiment-rnn predict` for each backend (median of several
runs), and NumPy vs Keras throughput on the test set. Not part of the test suite.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/benchmark.py [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "sentiment_rnn"]
REVIEW = "A moving story with wonderful acting; one of the best films of the year."


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return seconds, out.stdout


def peak_rss_mb(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall time, peak resident memory (MB) and output of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{stdout}\n{stderr}")
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # largest child so far
    return seconds, rss_kb / 1024, stdout


def throughput(run_dir: Path) -> dict[str, float]:
    """Reviews per second of each backend on the 25,000 test reviews (ids encoded once)."""
    from sentiment_rnn.data import load_split
    from sentiment_rnn.predict import Predictor

    texts, _ = load_split("test")
    result = {}
    for backend in ("numpy", "keras"):
        predictor = Predictor(run_dir, backend)
        ids = predictor.ids(texts)
        predictor.predict_ids(ids[:256])  # warm-up: graph tracing is not throughput
        started = time.perf_counter()
        predictor.predict_ids(ids)
        result[backend] = len(texts) / (time.perf_counter() - started)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=7, help="cold-start predict runs")
    args = parser.parse_args()
    if not os.environ.get("TFDS_DATA_DIR"):
        sys.exit("set TFDS_DATA_DIR to the folder that holds imdb_reviews/")
    work = Path(tempfile.mkdtemp(prefix="sentiment-rnn-bench-"))
    run_dir = work / "models" / "bench"

    train_s, train_mb, _ = peak_rss_mb(CLI + ["train", "--seed", str(args.seed),
                                              "--run-dir", str(run_dir)], work)
    history = json.loads((run_dir / "history.json").read_text())
    ours = statistics.median(h["seconds"] for h in history[1:])  # epoch 1 includes tracing
    _, plain_out = timed([sys.executable, str(HERE / "plain_keras.py"), "--epochs", "5"], work)
    plain_epochs = json.loads(plain_out)["epoch_seconds"][1:]  # epoch 1 includes tracing
    plain, plain_fastest = statistics.median(plain_epochs), min(plain_epochs)
    eval_s, eval_out = timed(CLI + ["evaluate", "--json", "--model", str(run_dir)], work)
    accuracy = json.loads(eval_out)["accuracy"]
    cold = {}
    for backend in ("numpy", "keras"):
        runs = [timed(CLI + ["predict", "--model", str(run_dir), "--backend", backend, REVIEW],
                      work)[0] for _ in range(args.repeats)]
        cold[backend] = statistics.median(runs)
    speed = throughput(run_dir)

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"Machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
          f"seed {args.seed}; {len(history)} epochs, best {max(history, key=lambda h: h['val_accuracy'])['epoch']}")
    rows = [
        ("IMDB test accuracy (25,000 reviews)", f"{accuracy:.4f}"),
        ("`train` wall time, defaults", f"{train_s:.1f} s"),
        ("epoch time, sentiment-rnn (median after epoch 1)", f"{ours:.2f} s"),
        ("epoch time, plain Keras + TextVectorization (median of epochs 2-5)",
         f"{plain:.2f} s (fastest {plain_fastest:.2f} s)"),
        ("epoch-time ratio (plain / sentiment-rnn), median", f"{plain / ours:.2f}x"),
        ("epoch-time ratio against plain's fastest epoch", f"{plain_fastest / ours:.2f}x"),
        ("`evaluate` wall time (25,000 reviews)", f"{eval_s:.1f} s"),
        ("cold-start `predict`, numpy backend (median)", f"{cold['numpy']:.2f} s"),
        ("cold-start `predict`, keras backend (median)", f"{cold['keras']:.2f} s"),
        ("throughput on the test set, numpy", f"{speed['numpy']:,.0f} reviews/s"),
        ("throughput on the test set, keras", f"{speed['keras']:,.0f} reviews/s"),
        ("peak memory of `train`", f"{train_mb:,.0f} MB"),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
