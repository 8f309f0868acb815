"""Reviews per second of `predict --file` with --jobs 1, 2, ...: the whole command, as a user runs it.

The IMDB test split (25,000 reviews) is written to a temporary text file, one review per line
(newlines in a review replaced by spaces). Each timed run is the whole command in a fresh
process, `python -m sentiment_rnn predict --model RUN --file FILE --jobs N`, start-up, model
loading, reading and writing included, its output written to a file; the runs for each N are
interleaved (1, 2, 1, 2, ...) so a changing load on a shared machine hits them alike. Prints a
Markdown table with the median wall time of `--repeats` runs, reviews per second and the CPU
seconds the command used (its processes together), then the conditions; checks that every
run's output is the same, byte for byte.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/jobs.py RUN_DIR [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
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


def write_reviews(path: Path, limit: int | None, data_dir: str | None) -> int:
    """The test split's reviews, one a line; how many."""
    from sentiment_rnn.data.imdb import load_split

    texts, _ = load_split("test", data_dir, limit=limit)
    with open(path, "w", encoding="utf-8") as f:
        for text in texts:
            f.write(" ".join(text.split()) + "\n")  # every newline (and run of spaces) -> " "
    return len(texts)


def timed_run(command: list[str], out_path: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, every process of it) and the output's sha256."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        result = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {result.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, hashlib.sha256(out_path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--format", default="text", choices=["text", "csv", "jsonl"])
    parser.add_argument("--limit", type=int, default=None, help="first N test reviews only")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        reviews_file = Path(tmp) / "imdb-test.txt"
        n = write_reviews(reviews_file, args.limit, args.data_dir)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        load_start = os.getloadavg()
        times: dict[int, list[tuple[float, float]]] = {j: [] for j in args.jobs}
        digests = set()
        for _ in range(args.repeats):
            for jobs in args.jobs:
                command = [sys.executable, "-m", "sentiment_rnn", "predict", "--model",
                           str(args.run_dir), "--file", str(reviews_file), "--format",
                           args.format, "--jobs", str(jobs)]
                wall, cpu, digest = timed_run(command, Path(tmp) / "out")
                times[jobs].append((wall, cpu))
                digests.add(digest)
        load_end = os.getloadavg()
        size = reviews_file.stat().st_size

    config = json.loads((args.run_dir / "config.json").read_text())["config"]
    import numpy

    cpu_model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                      if line.startswith("model name")), platform.processor())
    base = statistics.median(w for w, _ in times[args.jobs[0]])
    print(f"| --jobs | wall time, median of {args.repeats} (s) | reviews/s | speed-up "
          f"| CPU time, median (s) | all runs (s) |")
    print("|---|---|---|---|---|---|")
    for jobs in args.jobs:
        walls = [w for w, _ in times[jobs]]
        wall = statistics.median(walls)
        cpu = statistics.median(c for _, c in times[jobs])
        print(f"| {jobs} | {wall:.2f} | {n / wall:,.0f} | {base / wall:.2f}x | {cpu:.2f} | "
              f"{', '.join(f'{w:.2f}' for w in walls)} |")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    print(f"\nInput: {n:,} IMDB test reviews, one a line, {size / 2**20:.1f} MiB; output "
          f"--format {args.format} to a file; whole command (start-up, model loading, reading, "
          f"writing) in a fresh process each run, runs interleaved.")
    print(f"Model: {args.run_dir} (numpy backend; vocab {config['vocab_size']}, max-len "
          f"{config['max_len']}, embed {config['embed_dim']}, units {config['units']}).")
    print(f"Machine: {cores} usable cores ({os.cpu_count()} in all), {cpu_model}; Python "
          f"{platform.python_version()}, NumPy {numpy.__version__}; 1-min load average "
          f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end (the machine may be shared).")
    print(f"Output identical in every run: {'yes' if len(digests) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
