"""Before and after, in one run on one machine: the default `train` of an earlier commit and of
this checkout, each timed part by part, then `evaluate` of each model on the IMDB test split.

For each version (the earlier one from `git archive REV`, unpacked in a temporary folder; this
checkout as it is), in a fresh process one after the other, with that version on PYTHONPATH:

    python -m sentiment_rnn train --seed S --run-dir DIR [OPTIONS]
    python -m sentiment_rnn evaluate --json --model DIR

The parts come from what the run itself recorded and from when its lines were printed:
  start-up + reading + tokenizing + vocabulary: from the start to the teacher's first line
  teacher: config.json `data.teacher.seconds` (its fits, reading and labelling the unlabelled
      texts)
  epochs: history.json's seconds, the first apart (it traces, or compiles with XLA), and of
      them the validation passes (history's `val_seconds`, recorded from 0.6.0 on)
  the rest: the wall time left (saving the run folder after the last epoch, plots, exit)
and the floor of an epoch: the FLOPs of the real ids the epoch reads (config.json `data.ids`,
recorded from 0.6.0 on; the earlier run reads the same ids when its preparation is the same) at
the NumPy small-matmul rate measured in this process (floor.py).

Prints one Markdown table, the versions side by side, with the load average before each
command; --json-out writes everything measured, and each train's output goes to
WORK/train-before.log and WORK/train-after.log with the second of each line. Not part of the test
suite.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/speed.py --before 20b4648
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from floor import epoch_flops, measure_rates

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def timed_run(cmd: list[str], code: Path, cwd: Path) -> dict:
    """Run a command with `code` on PYTHONPATH; its wall time, peak memory, load average at
    the start, and each output line with the second it was printed."""
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err,
                                text=True)
        lines = [(time.perf_counter() - started, line.rstrip("\n")) for line in proc.stdout]
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        err.seek(0)
        stderr = err.read()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n" + "\n".join(l for _, l in lines[-20:])
                     + stderr[-3000:])
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "load": load,
            "lines": lines, "stderr": stderr}


def parts(run: dict, run_dir: Path) -> dict:
    """The train command's parts (see the module's docstring)."""
    history = json.loads((run_dir / "history.json").read_text())
    data = json.loads((run_dir / "config.json").read_text())["data"]
    teacher = data.get("teacher", {}).get("seconds", 0.0)
    first_teacher_line = next((t for t, line in run["lines"] if line.startswith("Teacher")),
                              None)
    run_folder_line = next(t for t, line in run["lines"] if line.startswith("Run folder:"))
    epochs = [h["seconds"] for h in history]
    validation = [h.get("val_seconds") for h in history]
    return {"wall": run["seconds"], "peak_mb": run["peak_mb"], "load": run["load"],
            "before_teacher": first_teacher_line if first_teacher_line else run_folder_line,
            "teacher": teacher, "until_first_epoch": run_folder_line,
            "epochs": epochs, "validation": validation,
            "rest": run["seconds"] - run_folder_line - sum(epochs),
            "ids": data.get("ids")}


def measure(name: str, code: Path, args, work: Path) -> dict:
    run_dir = work / f"run-{name}"
    cli = [sys.executable, "-m", "sentiment_rnn"]
    train = timed_run(cli + ["train", "--seed", str(args.seed), "--run-dir", str(run_dir),
                             *args.options], code, work)
    out = parts(train, run_dir)
    (work / f"train-{name}.log").write_text(  # what the command printed, with its seconds
        "".join(f"[{t:7.1f}] {line}\n" for t, line in train["lines"]) + train["stderr"])
    state = json.loads((run_dir / "state.json").read_text())
    evaluation = timed_run(cli + ["evaluate", "--json", "--model", str(run_dir)], code, work)
    test = json.loads(evaluation["lines"][-1][1])
    out.update(best_epoch=state["best_epoch"], val_accuracy=state["best_val_accuracy"],
               test_accuracy=test["accuracy"], test_auc=test.get("auc"),
               weights_sha256=state["sha256"]["weights.npz"], run_dir=str(run_dir))
    return out


def table(before: dict, after: dict, rate: float, labels: tuple[str, str]) -> str:
    ids = after["ids"] or before["ids"]
    floor = epoch_flops({"train_ids": ids["train"], "train_reviews": 0,
                         "val_ids": ids["validation"], "val_reviews": 0}) / rate if ids else None

    def later(r):  # the median epoch after the first
        return statistics.median(r["epochs"][1:] or r["epochs"])

    def val(r):
        known = [v for v in r["validation"] if v is not None]
        return f"{sum(known):.1f} s" if known else "not recorded"

    rows = [
        ("load average (1 min) at the start", *(f"{r['load']:.2f}" for r in (before, after))),
        ("`train` wall time", *(f"{r['wall']:.1f} s" for r in (before, after))),
        ("start-up, reading, tokenizing, vocabulary",
         *(f"{r['before_teacher']:.1f} s" for r in (before, after))),
        ("teacher (fits, reading and labelling the unlabelled texts)",
         *(f"{r['teacher']:.1f} s" for r in (before, after))),
        ("from the start to the first epoch", *(f"{r['until_first_epoch']:.1f} s"
                                                 for r in (before, after))),
        ("epochs run (best)", *(f"{len(r['epochs'])} ({r['best_epoch']})"
                                for r in (before, after))),
        ("all epochs", *(f"{sum(r['epochs']):.1f} s" for r in (before, after))),
        ("first epoch", *(f"{r['epochs'][0]:.1f} s" for r in (before, after))),
        ("median later epoch", *(f"{later(r):.1f} s" for r in (before, after))),
        ("of the epochs, validation passes", *(val(r) for r in (before, after))),
        ("after the last epoch (saving, plots, exit)", *(f"{r['rest']:.1f} s"
                                                          for r in (before, after))),
        ("peak memory", *(f"{r['peak_mb']:,.0f} MB" for r in (before, after))),
        ("validation accuracy (best epoch)", *(f"{r['val_accuracy']:.4f}"
                                                for r in (before, after))),
        ("IMDB test accuracy", *(f"{r['test_accuracy']:.4f}" for r in (before, after))),
        ("weights.npz sha256", *(r["weights_sha256"][:16] for r in (before, after))),
    ]
    if floor:
        rows.append((f"median later epoch / floor ({floor:.2f} s)",
                     *(f"{later(r) / floor:.1f}x" for r in (before, after))))
    lines = [f"| part | {labels[0]} | {labels[1]} |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the earlier commit (git revision)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, help="keep the run folders here")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("options", nargs="*", help="more `train` options, for both versions")
    args = parser.parse_args()
    if not os.environ.get("TFDS_DATA_DIR"):
        parser.error("set TFDS_DATA_DIR to the folder that holds imdb_reviews/")
    work = args.work or Path(tempfile.mkdtemp(prefix="sentiment-rnn-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    old = work / "before-code"
    old.mkdir(exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", args.before],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                            "sentiment_rnn"], capture_output=True, text=True).stdout.strip()
    labels = (f"before ({args.before})", f"after ({head}{' + changes' if dirty else ''})")
    rate = measure_rates()["small_flops_per_s"]
    results = {}
    for name, code in (("before", old), ("after", REPO)):
        print(f"{name}: train + evaluate ...", file=sys.stderr, flush=True)
        results[name] = measure(name, code, args, work)
    text = table(results["before"], results["after"], rate, labels)
    print(text)
    print(f"\n{os.cpu_count()} cores; seed {args.seed}; options: "
          f"{' '.join(args.options) or 'defaults'}; load average at the end "
          f"{os.getloadavg()[0]:.2f}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"labels": labels, "small_flops_per_s": rate,
                                             **results}, indent=1, default=str))


if __name__ == "__main__":
    main()
