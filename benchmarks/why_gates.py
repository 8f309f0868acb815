"""docs/why-gates.md's tables and figures from the nine runs it describes.

    python benchmarks/why_gates.py RUNS_FOLDER

RUNS_FOLDER holds the runs CELL-SEED (cell simple, gru, lstm; seed 42, 1, 2), each evaluated
into RUNS_FOLDER/eval-CELL-SEED.json (`sentiment-rnn evaluate --model RUN --json`); the memory
and the probe come from `sentiment-rnn inspect --model RUN --memory --json --reviews 1000`
(kept as RUNS_FOLDER/memory-CELL-SEED.json). Training times, when RUNS_FOLDER/times.txt has
lines "CELL seed S train N s (load ...)". Writes docs/why_gates.json, docs/why_gates_memory.png,
docs/why_gates_probe.png and prints the tables.
"""
import json, subprocess, sys, os, re
from pathlib import Path
import numpy as np

RUNS = Path(sys.argv[1] if len(sys.argv) > 1 else "models")
OUT = Path(__file__).resolve().parent.parent / "docs"
cells, seeds = ["simple", "gru", "lstm"], [42, 1, 2]
times = {}
for line in ((RUNS / "times.txt").read_text().splitlines() if (RUNS / "times.txt").exists() else []):
    m = re.match(r"(\w+) seed (\d+) train (\d+) s \(load ([\d.]+)", line)
    if m:
        times[(m[1], int(m[2]))] = (int(m[3]), float(m[4]))
rows = []
for cell in cells:
    for seed in seeds:
        run = RUNS / f"{cell}-{seed}"
        ev = RUNS / f"eval-{cell}-{seed}.json"
        if not ev.exists():
            print("missing", run); continue
        e = json.loads(ev.read_text())
        state = json.loads((run / "state.json").read_text())
        cfg = json.loads((run / "config.json").read_text())["config"]
        mem_file = RUNS / f"memory-{cell}-{seed}.json"
        if not mem_file.exists():
            out = subprocess.run(["sentiment-rnn", "inspect", "--model", str(run), "--memory",
                                  "--json", "--reviews", "1000"], capture_output=True, text=True)
            if out.returncode:
                print(out.stderr[-2000:]); sys.exit(1)
            mem_file.write_text(out.stdout)
        mem = json.loads(mem_file.read_text())
        from sentiment_rnn.config import TrainConfig
        params = TrainConfig.from_dict(cfg).parameters
        hist = state["history"]
        rows.append({"cell": cell, "seed": seed, "test_accuracy": e["accuracy"], "test_auc": e["auc"],
                     "best_epoch": state["best_epoch"], "epochs_run": len(hist),
                     "val_accuracy": state["best_val_accuracy"],
                     "epoch_seconds": [h["seconds"] for h in hist],
                     "train_seconds": times.get((cell, seed), (None, None))[0],
                     "load_at_end": times.get((cell, seed), (None, None))[1],
                     "parameters": params,
                     "half_life_gradient": mem["gradient"]["half_life"],
                     "half_life_leave_one_out": mem["leave_one_out"]["half_life"],
                     "memory": {"gradient_k": mem["gradient"]["k"], "gradient": mem["gradient"]["mean_norm"],
                                "loo_k": mem["leave_one_out"]["k"], "loo": mem["leave_one_out"]["mean_abs_change"]},
                     "probe": mem.get("probe")})
(OUT / "why_gates.json").write_text(json.dumps(rows, indent=1))
for r in rows:
    print(r["cell"], r["seed"], r["test_accuracy"], r["val_accuracy"], r["best_epoch"], r["train_seconds"],
          r["parameters"], r["half_life_gradient"], r["half_life_leave_one_out"])

# ---- tables and figures
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
NAMES = {"simple": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}
COLOURS = {"simple": "tab:blue", "gru": "tab:green", "lstm": "tab:red"}
by_cell = {c: [r for r in rows if r["cell"] == c] for c in cells}

def fmt(values, spec):
    return " / ".join("-" if v is None else format(v, spec) for v in values)

def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None

lines = ["| cell | parameters | IMDB test accuracy (seeds 42 / 1 / 2) | mean | best epoch | training time (s) | half-life, gradient (words) | half-life, leave-one-out (words) |",
         "|---|---:|---|---:|---|---|---|---|"]
for c in cells:
    rs = by_cell[c]
    if not rs: continue
    lines.append(f"| {NAMES[c]} | {rs[0]['parameters']:,} | {fmt([r['test_accuracy'] for r in rs], '.4f')} | "
                 f"{mean([r['test_accuracy'] for r in rs]):.4f} | {fmt([r['best_epoch'] for r in rs], 'd')} | "
                 f"{fmt([r['train_seconds'] for r in rs], '.0f')} | "
                 f"{fmt([r['half_life_gradient'] for r in rs], '.1f')} | {fmt([r['half_life_leave_one_out'] for r in rs], '.1f')} |")
ks = [row["k"] for row in rows[0]["probe"]["rows"]]
lines += ["", "| k neutral words | " + " | ".join(str(k) for k in ks) + " |", "|---|" + "---:|" * len(ks)]
for c in cells:
    rs = by_cell[c]
    if not rs: continue
    accs = [[r["probe"]["rows"][i]["accuracy"] for r in rs] for i in range(len(ks))]
    lines.append(f"| {NAMES[c]} (mean of {len(rs)}) | " + " | ".join(f"{mean(a):.3f}" for a in accs) + " |")
print("\n".join(lines))

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for c in cells:
    for i, r in enumerate(by_cell[c]):
        m = r["memory"]
        label = NAMES[c] if i == 0 else None
        axes[0].plot(m["gradient_k"], [v if v else np.nan for v in m["gradient"]], color=COLOURS[c], alpha=0.7, lw=1, label=label)
        axes[1].plot(m["loo_k"], [v if v else np.nan for v in m["loo"]], color=COLOURS[c], alpha=0.7, lw=1, marker=".", label=label)
for ax, title in zip(axes, ["mean |d logit / d x| at distance k", "mean leave-one-out |dP| at distance k"]):
    ax.set_yscale("log"); ax.set_xlabel("k: words before the end of the review"); ax.set_title(title, fontsize=10); ax.legend()
fig.suptitle("How far back each cell remembers (1,000 IMDB validation reviews; one line per seed)", fontsize=11)
fig.tight_layout(); fig.savefig(OUT / "why_gates_memory.png", dpi=90)
fig, ax = plt.subplots(figsize=(6, 4))
for c in cells:
    for i, r in enumerate(by_cell[c]):
        ax.plot(ks, [row["accuracy"] for row in r["probe"]["rows"]], color=COLOURS[c], marker="o", alpha=0.7, label=NAMES[c] if i == 0 else None)
ax.axhline(0.5, color="grey", lw=0.8, ls="--")
ax.set_xlabel("k neutral words after the verdict sentence"); ax.set_ylabel("accuracy"); ax.set_ylim(0.4, 1.02); ax.legend()
ax.set_title("The probe: a verdict sentence, then k neutral words (one line per seed)", fontsize=10)
fig.tight_layout(); fig.savefig(OUT / "why_gates_probe.png", dpi=90)
