"""How preparing and training grow with the corpus: peak memory and wall time at 25k, 250k, 2.5M.

For each size N, two fresh child processes, one after the other, on the same labelled file:

  (a) prepare   `prepare(TrainConfig(data=FILE), folder=DIR)` alone (this script's --prepare
                mode; no TensorFlow is imported): wall time, peak RSS (os.wait4), ids per review.
  (b) train     the real command `python -m sentiment_rnn train --data FILE --epochs 1
                --run-dir RUN` (cwd under --work, so models/latest lands there): wall time, peak
                RSS (os.wait4), the epoch's "seconds" from the run's history.json, and when its
                preparation ended (the time the "Run folder:" line was printed).

While each child runs, the parent samples every 0.5 s: /proc/PID/status (VmRSS split into RssAnon,
the process's own memory, and RssFile, mapped file pages such as the ids .npy and libraries), the
size of the run folder (the scratch tokens.txt and ids-*.npy included) and the free disk. The
parent imports nothing heavy: on Linux a child's ru_maxrss can include its parent's memory at fork.

The data: the 50,000 unlabelled IMDB reviews (tfds imdb_reviews, split `unsupervised`), repeated
with a new seeded shuffle each repetition, written as JSON Lines under --work. Their labels come
from a fixed teacher: each word's log-odds in the real labelled train split, summed over a review's
distinct words, positive above the median. A coin would do for size, but then the label-aware
vocabulary picks random rare words and reviews keep ~5 ids instead of ~55, which makes epochs far
too cheap; the reference row (prepare on the real IMDB train split) shows the real ids per review.
Repeated texts fall into both the training and validation parts: accuracy means nothing here.

A size whose train command would take longer than --max-train-seconds (estimated from the
previous size, linearly) is run for (a) only. A final child measures the label-aware vocabulary
counters (tracemalloc peak of Vocabulary.build) per distinct word at 12.5k, 25k and 50k reviews.

    TFDS_DATA_DIR=../shared/tensorflow_datasets python benchmarks/scale.py [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SELF = [sys.executable, str(Path(__file__).resolve())]
MB = 2**20


# ---- child modes (heavy imports live only here) ----------------------------------------------

def make_base(out: Path) -> None:
    """The 50,000 unlabelled reviews with the teacher's labels, as JSON Lines."""
    import math
    from collections import Counter

    import numpy as np
    from sentiment_rnn.data import load_split
    from sentiment_rnn.text import tokenize

    texts, labels = load_split("train")
    pos, neg = Counter(), Counter()
    for text, y in zip(texts, labels):
        (pos if y == 1 else neg).update(set(tokenize(text)))
    log_odds = {w: math.log((pos[w] + 1) / (neg[w] + 1)) for w in pos.keys() | neg.keys()}
    texts, _ = load_split("unsupervised")
    scores = np.array([sum(log_odds.get(w, 0.0) for w in set(tokenize(t))) for t in texts])
    ys = (scores > np.median(scores)).astype(int)
    with open(out, "w", encoding="utf-8") as f:
        for text, y in zip(texts, ys):
            f.write(json.dumps({"text": text, "label": int(y)}) + "\n")


def make_data(base: Path, n: int, out: Path, seed: int = 11) -> None:
    """N rows: the base rows again and again, each repetition in a new seeded order."""
    import numpy as np

    rows = base.read_text(encoding="utf-8").splitlines(keepends=True)
    with open(out, "w", encoding="utf-8") as f:
        for rep in range(-(-n // len(rows))):
            order = np.random.default_rng([seed, rep]).permutation(len(rows))
            f.writelines(rows[i] for i in order[:n - rep * len(rows)])


def prepare_only(data: str | None, folder: Path) -> None:
    """prepare() as train calls it; prints one JSON line of what it made."""
    import numpy as np
    from sentiment_rnn.config import TrainConfig
    from sentiment_rnn.prepare import prepare

    config = TrainConfig(data=data) if data else TrainConfig()
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    vocab, (x, y), (xv, yv) = prepare(config, folder=folder)
    seconds = time.perf_counter() - started
    per_row = np.concatenate([np.count_nonzero(x[i:i + 65536], axis=1)
                              for i in range(0, len(x), 65536)])
    print(json.dumps({"seconds": round(seconds, 2), "train": len(y), "validation": len(yv),
                      "vocab": len(vocab), "ids_dtype": str(x.dtype),
                      "ids_per_review_mean": round(float(per_row.mean()), 1),
                      "ids_per_review_median": float(np.median(per_row))}))


def counters(base: Path) -> None:
    """Peak bytes of Vocabulary.build (label-aware) per distinct word, at growing review counts."""
    import tracemalloc

    from sentiment_rnn.text import Vocabulary, tokenize

    rows = [json.loads(line) for line in base.open(encoding="utf-8")]
    tokens = [tokenize(r["text"]) for r in rows]
    labels = [r["label"] for r in rows]
    out = []
    for n in (len(rows) // 4, len(rows) // 2, len(rows)):
        tracemalloc.start()
        Vocabulary.build(tokens[:n], labels[:n], 1000, "label-aware")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        distinct = len({w for t in tokens[:n] for w in t})
        out.append({"reviews": n, "distinct_words": distinct, "peak_mb": round(peak / MB, 1),
                    "bytes_per_word": round(peak / distinct)})
    print(json.dumps(out))


# ---- measuring a child -----------------------------------------------------------------------

def _status(pid: int) -> dict:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in lines)
            if k in ("VmRSS", "RssAnon", "RssFile")}


def _folder(path: Path) -> dict:
    """Apparent size of every file under path, by name (tokens.txt, ids-train.npy, ...)."""
    sizes = {}
    for root, _, files in os.walk(path):
        for name in files:
            try:
                sizes[name] = sizes.get(name, 0) + os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return sizes


def measure(cmd: list[str], cwd: Path, watch: Path, mark: str | None = None) -> dict:
    """Run cmd; wall time, peak RSS (wait4), samples of RSS, folder size and free disk, and the
    output lines with their times. Samples after the first line starting with `mark` are also
    kept apart (the training phase of `train`)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    load_before = os.getloadavg()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: lines.extend(
        (time.perf_counter() - started, line.rstrip("\n")) for line in proc.stdout))
    reader.start()
    peak = {"rss": 0, "anon": 0, "file": 0, "rss_after_mark": 0, "anon_after_mark": 0,
            "file_after_mark": 0, "folder": 0, "files": {}, "disk_free_min": None}
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        st, files = _status(proc.pid), _folder(watch)
        after = mark is not None and any(text.startswith(mark) for _, text in list(lines))
        for key, field in (("rss", "VmRSS"), ("anon", "RssAnon"), ("file", "RssFile")):
            peak[key] = max(peak[key], st.get(field, 0))
            if after:
                peak[f"{key}_after_mark"] = max(peak[f"{key}_after_mark"], st.get(field, 0))
        peak["folder"] = max(peak["folder"], sum(files.values()))
        for name, size in files.items():
            peak["files"][name] = max(peak["files"].get(name, 0), size)
        free = shutil.disk_usage(cwd).free
        peak["disk_free_min"] = min(free, peak["disk_free_min"] or free)
        time.sleep(0.5)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    output = [text for _, text in lines]
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n" + "\n".join(output[-30:]))
    mark_at = next((t for t, text in lines if mark and text.startswith(mark)), None)
    return {"command": " ".join(cmd), "wall_s": round(wall, 1),
            "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB),  # Linux: kilobytes
            "sampled": {k: (round(v / MB) if isinstance(v, int) else
                            {n: round(s / MB, 1) for n, s in v.items()} if isinstance(v, dict)
                            else v) for k, v in peak.items() if k != "disk_free_min"},
            "disk_free_min_gb": round(peak["disk_free_min"] / 2**30, 1),
            "mark_s": None if mark_at is None else round(mark_at, 1),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()], "output": output}


# ---- the run ---------------------------------------------------------------------------------

def run(args) -> dict:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base.jsonl"
    result = {"machine": {"cores": os.cpu_count(), "cpu": _cpu(), "python": platform.python_version(),
                          "load_start": [round(x, 2) for x in os.getloadavg()]},
              "sizes": [], "work": str(work)}
    t0 = time.perf_counter()
    result["make_base"] = measure([*SELF, "--make-base", str(base)], work, work)
    ref = work / "prep-reference"
    result["reference"] = measure([*SELF, "--prepare", "", str(ref)], work, ref)
    shutil.rmtree(ref, ignore_errors=True)
    row_bytes = base.stat().st_size / sum(1 for _ in base.open(encoding="utf-8"))
    estimate, previous = None, None
    for n in args.sizes:
        data, prep, run_dir = work / f"data-{n}.jsonl", work / f"prep-{n}", work / f"run-{n}"
        need = n * (2 * row_bytes + 400) * 1.2  # file + tokens (~ the file) + ids, 20% spare
        if shutil.disk_usage(work).free < need:
            result["sizes"].append({"reviews": n, "skipped": f"needs ~{need / 2**30:.1f} GB"})
            continue
        entry = {"reviews": n}
        entry["make_data"] = measure([*SELF, "--make-data", str(base), str(n), str(data)],
                                     work, work)
        entry["data_bytes"] = data.stat().st_size
        entry["prepare"] = measure([*SELF, "--prepare", str(data), str(prep)], work, prep)
        entry["prepare"]["result"] = json.loads(entry["prepare"]["output"][-1])
        shutil.rmtree(prep, ignore_errors=True)
        estimate = previous and previous[1] * n / previous[0]  # linear in the reviews
        if estimate and estimate > args.max_train_seconds:
            entry["train"] = f"not run: estimated {estimate:.0f} s > {args.max_train_seconds} s"
        else:
            cmd = [sys.executable, "-m", "sentiment_rnn", "train", "--data", str(data),
                   "--epochs", "1", "--run-dir", str(run_dir)]
            entry["train"] = train = measure(cmd, work, run_dir, mark="Run folder:")
            history = json.loads((run_dir / "history.json").read_text())
            train["epoch_s"] = history[0]["seconds"]
            train["folder_after_mb"] = round(sum(_folder(run_dir).values()) / MB, 1)
            previous = n, train["wall_s"]
            shutil.rmtree(run_dir, ignore_errors=True)
        data.unlink()
        result["sizes"].append(entry)
        print(f"[{time.perf_counter() - t0:.0f} s] {n:,} reviews done", file=sys.stderr)
    result["counters"] = measure([*SELF, "--counters", str(base)], work, work)
    result["counters"]["result"] = json.loads(result["counters"]["output"][-1])
    result["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"]["total_s"] = round(time.perf_counter() - t0)
    return result


def _cpu() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def table(result: dict) -> str:
    m, ref = result["machine"], result["reference"]
    out = [f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}; load average "
           f"{m['load_start']} at the start, {m['load_end']} at the end; {m['total_s']} s in all.",
           f"Reference: prepare on the real IMDB train split: {ref['wall_s']} s, "
           f"{ref['peak_rss_mb']} MB peak, ids per review mean "
           f"{json.loads(ref['output'][-1])['ids_per_review_mean']}.", "",
           "| reviews | data file | (a) prepare wall | (a) peak RSS (anon + file max) | ids/review "
           "| tokens.txt | ids-*.npy | (b) train wall | prep. inside train | epoch (history) "
           "| (b) peak RSS | training-phase RSS (anon + file max) | run folder max / after "
           "| free disk min | load avg (a) / (b) |",
           "|" + "---|" * 15]
    for e in result["sizes"]:
        if "skipped" in e:
            out.append(f"| {e['reviews']:,} | skipped: {e['skipped']} |" + " |" * 13)
            continue
        p, r = e["prepare"], e["prepare"]["result"]
        files = p["sampled"]["files"]
        cells = [f"{e['reviews']:,}", f"{e['data_bytes'] / MB:,.0f} MB", f"{p['wall_s']} s",
                 f"{p['peak_rss_mb']} MB ({p['sampled']['anon']} + {p['sampled']['file']})",
                 f"{r['ids_per_review_mean']}", f"{files.get('tokens.txt', 0):,.0f} MB",
                 f"{files.get('ids-train.npy', 0) + files.get('ids-validation.npy', 0):,.0f} MB"]
        t = e["train"]
        if isinstance(t, str):
            cells += [t, "", "", "", "", "", f"{p['disk_free_min_gb']} GB",
                      f"{p['load_before'][0]} / -"]
        else:
            s = t["sampled"]
            cells += [f"{t['wall_s']} s", f"{t['mark_s']} s", f"{t['epoch_s']} s",
                      f"{t['peak_rss_mb']} MB",
                      f"{s['rss_after_mark']} MB ({s['anon_after_mark']} + {s['file_after_mark']})",
                      f"{s['folder']:,} / {t['folder_after_mb']:,.0f} MB",
                      f"{min(p['disk_free_min_gb'], t['disk_free_min_gb'])} GB",
                      f"{p['load_before'][0]} / {t['load_before'][0]}"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "| reviews | distinct words | Vocabulary.build peak | bytes per distinct word |",
            "|---|---|---|---|"]
    out += [f"| {c['reviews']:,} | {c['distinct_words']:,} | {c['peak_mb']} MB | "
            f"{c['bytes_per_word']} |" for c in result["counters"]["result"]]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[25_000, 250_000, 2_500_000])
    parser.add_argument("--work", default="/tmp/scale/work")
    parser.add_argument("--max-train-seconds", type=float, default=1500)
    parser.add_argument("--json-out")
    parser.add_argument("--make-base", nargs=1)
    parser.add_argument("--make-data", nargs=3)
    parser.add_argument("--prepare", nargs=2)
    parser.add_argument("--counters", nargs=1)
    args = parser.parse_args()
    if args.make_base:
        return make_base(Path(args.make_base[0]))
    if args.make_data:
        return make_data(Path(args.make_data[0]), int(args.make_data[1]), Path(args.make_data[2]))
    if args.prepare:
        return prepare_only(args.prepare[0] or None, Path(args.prepare[1]))
    if args.counters:
        return counters(Path(args.counters[0]))
    result = run(args)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"Command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print(table(result))


if __name__ == "__main__":
    main()
