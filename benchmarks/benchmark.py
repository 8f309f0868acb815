"""Every number that matters, measured in one run: accuracy, time, speed, memory, install size.

Each measured program runs in a fresh process, one after another, with this checkout's code on
PYTHONPATH:

  1. NumPy matmul rates (this process): the machine's FLOP/s for the RNN's small matmuls and for a
     big one; with the ids counted in step 4 they give the floor of an epoch (see floor.py).
  2. `sentiment-rnn train` with its defaults (the teacher labels the unlabelled IMDB reviews, the
     RNN learns from both, with a weight average): wall time, peak memory, per-epoch seconds from
     the run's history.json (state.json names the best epoch), and from its config.json
     (`data.teacher`) the teacher's seconds, validation accuracy and the reviews it labelled;
     then `sentiment-rnn evaluate` on the 25,000 IMDB test reviews: wall time and test accuracy.
  3. `sentiment-rnn train --teacher none` (the labelled reviews only, no weight average), same
     seed, its own run folder, then `evaluate`: an epoch reads the same ids as step 4's, so its
     epoch times are the ones compared with plain Keras, the floor and the tutorial.
  4. plain_keras.py --variant same-ids: the same model on the same ids, fed the usual tf.data way
     (the pipeline is the only difference); its epoch times against step 3's.
  5. plain_keras.py --variant tutorial: keras-io's TextVectorization + cache way, early stopping,
     its test accuracy and time to its best validation epoch.
  6. cold-start `sentiment-rnn predict` per backend on step 2's model, whole command, median of
     --repeats.
  7. throughput.py: reviews/s of NumPy, Keras in a tf.function and Keras eager on the same ids
     (step 2's model).
  8. (--install) install.py: a fresh venv, `pip install -e`, its size.

Prints Markdown tables (each row says what was timed, on what, median of how many) and a machine
line; --json-out writes everything measured. --quick (2,000 train reviews, 2 epochs, 2 repeats, no
install) is a smoke test: its numbers mean nothing. Not part of the test suite.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/benchmark.py [--json-out FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from floor import measure_rates
from report import machine_info, print_tables, tables

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLI = [sys.executable, "-m", "sentiment_rnn"]
REVIEW = "A moving story with wonderful acting; one of the best films of the year."


@dataclass
class Child:
    seconds: float  # wall time of the whole process
    peak_mb: float  # its peak resident memory
    stdout: str


def run_child(cmd: list[str], cwd: Path) -> Child:
    """Run one command in a fresh process; its wall time, peak memory (wait4) and output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stdout[-3000:]}\n"
                 f"{stderr[-3000:]}")
    return Child(seconds, usage.ru_maxrss / 1024, stdout)  # ru_maxrss is in KB on Linux


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def measure_train(args, work: Path, teacher: str | None = None) -> dict:
    """`sentiment-rnn train` (with `--teacher teacher` if given) into its own run folder, then
    `evaluate` of its model on the test split; what config.json says it read."""
    name = "bench" if teacher is None else f"bench-teacher-{teacher}"
    run_dir = work / "models" / name
    extra = ["--limit", str(args.limit), "--epochs", str(args.epochs)] if args.quick else []
    extra += [] if teacher is None else ["--teacher", teacher]
    child = run_child(CLI + ["train", "--seed", str(args.seed), "--run-dir", str(run_dir)] + extra,
                      work)
    history = json.loads((run_dir / "history.json").read_text())
    state = json.loads((run_dir / "state.json").read_text())
    saved = json.loads((run_dir / "config.json").read_text())
    evaluation = run_child(CLI + ["evaluate", "--json", "--model", str(run_dir)], work)
    data, config = saved["data"], saved["config"]
    taught = data.get("teacher", {})
    unlabelled = taught.get("unlabelled_used", 0) if taught.get("used") else 0
    return {"run_dir": str(run_dir), "options": extra, "wall_seconds": child.seconds,
            "peak_mb": child.peak_mb,
            "epoch_seconds": [h["seconds"] for h in history],
            "val_accuracy": [h["val_accuracy"] for h in history],
            "best_epoch": state["best_epoch"], "evaluate_seconds": evaluation.seconds,
            "evaluate_peak_mb": evaluation.peak_mb,
            "test": {k: v for k, v in last_json(evaluation.stdout).items()
                     if k in ("n", "accuracy", "loss", "auc")},
            # what an epoch read: the labelled training part, the rows the teacher labelled
            # (each keeps at least one id) and the validation part
            "labelled_train_reviews": data["train_reviews"],
            "teacher_labelled_reviews": unlabelled,
            "train_rows_per_epoch": data["train_reviews"] + unlabelled,
            "validation_reviews": data["validation_reviews"],
            "teacher_setting": config.get("teacher"), "ema": _ema(config),
            "teacher": taught}


def _ema(config: dict) -> float:
    """The weight average's momentum the run used (0: off), as TrainConfig.ema reads it."""
    if str(REPO) not in sys.path:
        sys.path.append(str(REPO))  # last: an installed sentiment_rnn comes first
    from sentiment_rnn.config import TrainConfig

    return TrainConfig.from_dict(config).ema


def measure_plain(variant: str, args, work: Path) -> dict:
    epochs = args.epochs if args.quick else (5 if variant == "same-ids" else 10)
    cmd = [sys.executable, str(HERE / "plain_keras.py"), "--variant", variant,
           "--epochs", str(epochs), "--seed", str(args.seed)]
    child = run_child(cmd + (["--limit", str(args.limit)] if args.quick else []), work)
    return {**last_json(child.stdout), "wall_seconds": child.seconds, "peak_mb": child.peak_mb}


def measure_cold_start(run_dir: str, repeats: int, work: Path) -> dict:
    """Whole `predict` commands, Python start-up included, for each backend."""
    return {backend: [run_child(CLI + ["predict", "--model", run_dir, "--backend", backend,
                                       REVIEW], work).seconds for _ in range(repeats)]
            for backend in ("numpy", "keras")}


def measure_throughput(run_dir: str, args, work: Path) -> dict:
    cmd = [sys.executable, str(HERE / "throughput.py"), run_dir, "--repeats",
           str(3 if not args.quick else 1)]
    return last_json(run_child(cmd + (["--limit", str(args.limit)] if args.quick else []),
                               work).stdout)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=7, help="cold-start predict runs")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: --limit reviews, --epochs epochs, 2 repeats, no install")
    parser.add_argument("--limit", type=int, default=2000, help="train reviews with --quick")
    parser.add_argument("--epochs", type=int, default=2, help="epochs with --quick")
    parser.add_argument("--install", action=argparse.BooleanOptionalAction, default=None,
                        help="time a fresh venv + pip install -e (downloads every dependency)  "
                             "[default: on, off with --quick]")
    parser.add_argument("--json-out", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    if args.quick:
        args.repeats = min(args.repeats, 2)
    if args.install is None:
        args.install = not args.quick
    if not os.environ.get("TFDS_DATA_DIR"):
        parser.error("set TFDS_DATA_DIR to the folder that holds imdb_reviews/")
    return args


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="sentiment-rnn-bench-"))
    machine = machine_info()
    steps = [("matmul rates", lambda r: measure_rates(args.quick), "rates"),
             ("train + evaluate", lambda r: measure_train(args, work), "train"),
             ("train --teacher none + evaluate",
              lambda r: measure_train(args, work, teacher="none"), "train_plain"),
             ("plain Keras, same ids", lambda r: measure_plain("same-ids", args, work), "same_ids"),
             ("tutorial", lambda r: measure_plain("tutorial", args, work), "tutorial"),
             ("cold-start predict",
              lambda r: measure_cold_start(r["train"]["run_dir"], args.repeats, work), "cold"),
             ("throughput", lambda r: measure_throughput(r["train"]["run_dir"], args, work),
              "throughput")]
    if args.install:
        from install import measure_install
        steps.append(("install", lambda r: measure_install(REPO), "install"))
    results, started = {}, time.perf_counter()
    for title, measure, key in steps:
        print(f"[{time.perf_counter() - started:6.0f} s] {title} ...", file=sys.stderr, flush=True)
        results[key] = measure(results)
    machine["load_average_end"] = os.getloadavg()
    machine["benchmark_seconds"] = time.perf_counter() - started
    settings = {"seed": args.seed, "quick": args.quick, "repeats": args.repeats,
                "limit": args.limit if args.quick else None,
                "epochs": args.epochs if args.quick else None,
                "date": datetime.datetime.now().isoformat(timespec="seconds")}
    shutil.rmtree(work, ignore_errors=True)  # the run folders of steps 2 and 3
    tabs = tables(results, machine, settings)
    print_tables(tabs, machine, settings)
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": machine, "settings": settings,
                                             "measurements": results, "tables": tabs}, indent=1))


if __name__ == "__main__":
    main()
