"""How preparing and training grow with the corpus: peak memory and wall time at 25k, 250k, 2.5M.

Per size N, two fresh child processes, one after the other, on the same labelled file:
  (a) `prepare(TrainConfig(data=FILE), folder=DIR)` alone (`--child prepare`, no TensorFlow): wall
      time, peak RSS (os.wait4), ids per review, ids the RNN steps through in epoch 1 (padding in).
  (b) the real `python -m sentiment_rnn train --data FILE --epochs 1 --run-dir RUN` (cwd under
      --work, so models/latest lands there): wall time, peak RSS (os.wait4), the epoch's "seconds"
      from history.json, and when its preparation ended (when "Run folder:" was printed).
Meanwhile the parent samples every 0.5 s /proc/PID/status (RssAnon: the process's own memory;
RssFile: mapped files, the ids .npy and libraries), the watched folder's files (the scratch
tokens.txt, ids-*.npy) and the free disk. The parent imports nothing heavy: on Linux a child's
ru_maxrss can include its parent's memory at fork.

Data: the 50,000 unlabelled IMDB reviews (tfds imdb_reviews `unsupervised`) repeated, each
repetition in a new seeded order, as JSON Lines under --work. Labels come from a fixed teacher:
each word's log-odds in the labelled train split, summed over a review's distinct words, positive
above the median. A coin would do for size, but the label-aware vocabulary then picks random rare
words, reviews keep ~5 ids instead of ~55 and epochs get far too cheap; the reference (prepare on
the real train split) shows real ids per review. Repeated texts land in both the training and
validation parts: accuracy means nothing here. A size whose train command would exceed
--max-train-seconds (linear estimate from the previous size) gets (a) only. Last, a child
measures the tracemalloc peak of Vocabulary.build per distinct word at 12.5k, 25k and 50k reviews.

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
SELF = [sys.executable, str(Path(__file__).resolve()), "--child"]
MB = 2**20


# ---- child modes (heavy imports live only here) ----------------------------------------------

def make_base(out: str) -> None:
    """The 50,000 unlabelled reviews with the teacher's labels, as JSON Lines."""
    import math
    from collections import Counter

    import numpy as np
    from sentiment_rnn.data.imdb import load_split
    from sentiment_rnn.text.tokenizer import tokenize

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


def make_data(base: str, n: str, out: str, seed: int = 11) -> None:
    """N rows: the base rows again and again, each repetition in a new seeded order."""
    import numpy as np

    n, rows = int(n), Path(base).read_text(encoding="utf-8").splitlines(keepends=True)
    with open(out, "w", encoding="utf-8") as f:
        for rep in range(-(-n // len(rows))):
            order = np.random.default_rng([seed, rep]).permutation(len(rows))
            f.writelines(rows[i] for i in order[:n - rep * len(rows)])


def prepare_only(data: str, folder: str) -> None:
    """prepare() as train calls it; prints one JSON line of what it made."""
    import numpy as np
    from sentiment_rnn.nn.batching import shuffled_buckets, sorted_batches
    from sentiment_rnn.config import TrainConfig
    from sentiment_rnn.data.prepare import prepare

    config = TrainConfig(data=data) if data else TrainConfig()  # "": the IMDB train split
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    vocab, (x, y), (xv, yv) = prepare(config, folder=folder)
    seconds = time.perf_counter() - started
    print("prepared", flush=True)  # the parent's samples after this are the counting below

    def lengths(ids):  # in chunks: batching.lengths would copy all ids as bools
        return np.concatenate([np.count_nonzero(ids[i:i + 65536], axis=1)
                               for i in range(0, len(ids), 65536)])

    per_row, val_rows = lengths(x), lengths(xv)
    # ids the RNN steps through in epoch 1, padding included: train's batches, each trimmed
    batches = shuffled_buckets(per_row, config.batch_size, np.random.default_rng([config.seed, 0]),
                               32 if config.length_buckets else 1)
    steps = sum(len(b) * max(int(per_row[b].max()), 1) for b in batches)
    steps += sum(len(b) * max(int(val_rows[b].max()), 1)
                 for b in sorted_batches(val_rows, config.batch_size))
    print(json.dumps({"seconds": round(seconds, 2), "train": len(y), "validation": len(yv),
                      "vocab": len(vocab), "ids_dtype": str(x.dtype),
                      "ids_per_review_mean": round(float(per_row.mean()), 1),
                      "ids_per_review_median": float(np.median(per_row)),
                      "padded_ids_epoch": int(steps)}))


def counters(base: str) -> None:
    """Peak bytes of Vocabulary.build (label-aware) per distinct word, at growing review counts."""
    import tracemalloc

    from sentiment_rnn.text.tokenizer import tokenize
    from sentiment_rnn.text.vocabulary import Vocabulary

    rows = [json.loads(line) for line in open(base, encoding="utf-8")]
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


def _cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")),
                platform.processor())


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
    """Run cmd; its wall time, peak RSS (wait4), output lines, and samples: the largest RSS
    (anon, file) before and after the first output line starting with `mark`, the watched
    folder's largest size and files, the least free disk."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    load_before, started = os.getloadavg(), time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: lines.extend(
        (time.perf_counter() - started, line.rstrip("\n")) for line in proc.stdout))
    reader.start()
    phases = {"before": [0, 0, 0], "after": [0, 0, 0]}  # largest VmRSS, RssAnon, RssFile
    folder, files, free_min = 0, {}, shutil.disk_usage(cwd).free
    while not (done := os.wait4(proc.pid, os.WNOHANG))[0]:
        st, sizes = _status(proc.pid), _folder(watch)
        phase = phases["after" if any(t.startswith(mark or "\0") for _, t in list(lines))
                       else "before"]
        for i, key in enumerate(("VmRSS", "RssAnon", "RssFile")):
            phase[i] = max(phase[i], st.get(key, 0))
        folder = max(folder, sum(sizes.values()))
        for name, size in sizes.items():
            files[name] = max(files.get(name, 0), size)
        free_min = min(free_min, shutil.disk_usage(cwd).free)
        time.sleep(0.5)
    wall, (_, status, usage) = time.perf_counter() - started, done
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    output = [text for _, text in lines]
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n" + "\n".join(output[-30:]))
    mark_at = next((t for t, text in lines if mark and text.startswith(mark)), None)
    return {"command": " ".join(cmd), "wall_s": round(wall, 1),
            "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB),  # Linux: kilobytes
            **{f"{k}_mark_mb": [round(v / MB) for v in vs] for k, vs in phases.items()},
            "folder_max_mb": round(folder / MB), "disk_free_min_gb": round(free_min / 2**30, 1),
            "files_max_mb": {n: round(b / MB, 1) for n, b in files.items()},
            "mark_s": None if mark_at is None else round(mark_at, 1),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()], "output": output}


# ---- the run ---------------------------------------------------------------------------------

def run(args) -> dict:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base.jsonl"
    result = {"machine": {"cores": os.cpu_count(), "cpu": _cpu_name(),
                          "python": platform.python_version(),
                          "load_start": [round(x, 2) for x in os.getloadavg()]},
              "sizes": [], "work": str(work)}
    t0 = time.perf_counter()
    result["make_base"] = measure([*SELF, "make-base", str(base)], work, work)
    ref = work / "prep-reference"
    result["reference"] = measure([*SELF, "prepare", "", str(ref)], work, ref, "prepared")
    result["reference"]["result"] = json.loads(result["reference"]["output"][-1])
    shutil.rmtree(ref, ignore_errors=True)
    row_bytes = base.stat().st_size / sum(1 for _ in base.open(encoding="utf-8"))
    previous = None
    for n in args.sizes:
        data, prep, run_dir = work / f"data-{n}.jsonl", work / f"prep-{n}", work / f"run-{n}"
        need = n * (2 * row_bytes + 400) * 1.2  # file + tokens (~ the file) + ids, 20% spare
        if shutil.disk_usage(work).free < need:
            result["sizes"].append({"reviews": n, "skipped": f"needs ~{need / 2**30:.1f} GB"})
            continue
        entry = {"reviews": n}
        entry["make_data"] = measure([*SELF, "make-data", str(base), str(n), str(data)],
                                     work, work)
        entry["data_bytes"] = data.stat().st_size
        entry["prepare"] = measure([*SELF, "prepare", str(data), str(prep)], work, prep,
                                   mark="prepared")
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
            train["folder_end_mb"] = round(sum(_folder(run_dir).values()) / MB, 1)
            previous = n, train["wall_s"]
            shutil.rmtree(run_dir, ignore_errors=True)
        data.unlink()
        result["sizes"].append(entry)
        print(f"[{time.perf_counter() - t0:.0f} s] {n:,} reviews done", file=sys.stderr)
    result["counters"] = measure([*SELF, "counters", str(base)], work, work)
    result["counters"]["result"] = json.loads(result["counters"]["output"][-1])
    result["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"]["total_s"] = round(time.perf_counter() - t0)
    return result


def table(result: dict) -> str:
    m, ref = result["machine"], result["reference"]
    mb = lambda n: f"{n:,.0f} MB"  # noqa: E731
    split = lambda rss: f"{mb(rss[0])} ({rss[1]:,} + {rss[2]:,})"  # noqa: E731
    out = [f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}; load average "
           f"{m['load_start']} at the start, {m['load_end']} at the end; {m['total_s']:,} s "
           f"in all. Reference, prepare on the real IMDB train split: "
           f"{ref['result']['seconds']} s, {ref['peak_rss_mb']} MB peak RSS, "
           f"{ref['result']['ids_per_review_mean']} ids per review.", "",
           "| reviews | data file | (a) prepare | its RSS (anon + file) | ids/review | tokens.txt "
           "| ids-*.npy | (b) train command | its preparation | its RSS then | epoch "
           "| ns per padded id | training RSS (anon + file) | peak RSS (wait4) "
           "| run folder max / end | free disk min | load (a) / (b) |", "|" + "---|" * 17]
    for e in result["sizes"]:
        if "skipped" in e:
            out.append(f"| {e['reviews']:,} | not run: {e['skipped']} |" + " |" * 15)
            continue
        p, r, t = e["prepare"], e["prepare"]["result"], e["train"]
        files = p["files_max_mb"]
        cells = [f"{e['reviews']:,}", mb(e["data_bytes"] / MB), f"{r['seconds']} s",
                 split(p["before_mark_mb"]), f"{r['ids_per_review_mean']}",
                 mb(files.get("tokens.txt", 0)),
                 mb(files.get("ids-train.npy", 0) + files.get("ids-validation.npy", 0))]
        if isinstance(t, str):
            cells += [t, *[""] * 7, f"{p['disk_free_min_gb']} GB", f"{p['load_before'][0]} / -"]
        else:
            cells += [f"{t['wall_s']} s", f"{t['mark_s']} s", split(t["before_mark_mb"]),
                      f"{t['epoch_s']} s", f"{t['epoch_s'] * 1e9 / r['padded_ids_epoch']:.0f}",
                      split(t["after_mark_mb"]), mb(t["peak_rss_mb"]),
                      f"{mb(t['folder_max_mb'])} / {mb(t['folder_end_mb'])}",
                      f"{min(p['disk_free_min_gb'], t['disk_free_min_gb'])} GB",
                      f"{p['load_before'][0]} / {t['load_before'][0]}"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "| reviews | distinct words | Vocabulary.build peak | bytes per distinct word |",
            "|---|---|---|---|"]
    out += [f"| {c['reviews']:,} | {c['distinct_words']:,} | {c['peak_mb']} MB | "
            f"{c['bytes_per_word']} |" for c in result["counters"]["result"]]
    last = result["sizes"][-1]
    out += ["", "Commands (largest size):", *(f"    {last[k]['command']}" for k in
                                               ("make_data", "prepare", "train")
                                               if isinstance(last.get(k), dict))]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[25_000, 250_000, 2_500_000])
    parser.add_argument("--work", default="/tmp/scale/work")
    parser.add_argument("--max-train-seconds", type=float, default=1500)
    parser.add_argument("--json-out")
    parser.add_argument("--child", nargs="+", help="internal: MODE ARGS of one measured child")
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        return {"make-base": make_base, "make-data": make_data, "prepare": prepare_only,
                "counters": counters}[mode](*rest)
    result = run(args)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"Command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print(table(result))


if __name__ == "__main__":
    main()
