"""Measurements -> Markdown tables for benchmark.py; every row says what was timed, on what input.

Derived numbers (medians, ratios, the floor) are computed here from what benchmark.py measured in
the same run; nothing is typed in by hand.
"""

from __future__ import annotations

import os
import platform
import statistics
from importlib.metadata import PackageNotFoundError, version

from floor import epoch_flops


def machine_info() -> dict:
    """Cores, CPU model, versions and the load before the run (the machine may be shared)."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())

    def v(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "tensorflow": v("tensorflow"), "keras": v("keras"), "numpy": v("numpy"),
            "load_average_start": os.getloadavg()}


def after_first(seconds: list[float]) -> list[float]:
    """Epochs 2.. (epoch 1 includes graph tracing); all of them if there is only one."""
    return seconds[1:] or seconds


def spread(seconds: list[float]) -> str:
    """'median of N, range a-b s' for a row's conditions."""
    return f"median of {len(seconds)}, range {min(seconds):.2f}-{max(seconds):.2f} s"


def what_was_read(t: dict) -> str:
    """The reviews an epoch of a `train` run read, from its config.json."""
    taught = t["teacher_labelled_reviews"]
    extra = f" + {taught:,} the teacher labelled" if taught else ""
    return (f"{t['labelled_train_reviews']:,} labelled{extra} training reviews, "
            f"{t['validation_reviews']:,} validation reviews")


def command(t: dict) -> str:
    """The options a `train` run was given, as the table shows them."""
    return " ".join(t["options"]) or "defaults"


def same_reviews(t: dict, ids: dict) -> str:
    """'' when the `--teacher none` run read as many reviews as plain Keras' same-ids variant;
    else a warning for the row's conditions (the two would then not read the same ids)."""
    ours = (t["train_rows_per_epoch"], t["validation_reviews"])
    theirs = (ids["train_reviews"], ids["val_reviews"])
    if ours == theirs:
        return ""
    return (f"; WARNING: the `--teacher none` run read {ours[0]:,} + {ours[1]:,} reviews, plain "
            f"Keras {theirs[0]:,} + {theirs[1]:,}: not the same ids")


def default_run(r: dict, settings: dict) -> list[tuple]:
    t, p, cold, tp = r["train"], r["train_plain"], r["cold"], r["throughput"]
    n_test = t["test"]["n"]
    teach = t["teacher"]
    taught = bool(teach.get("used"))
    epochs = after_first(t["epoch_seconds"])
    same = (f"{tp['reviews']:,} test reviews encoded once (not timed), batches of 1024 sorted by "
            f"length and trimmed; median of {tp['repeats']} timed pass(es) after a warm-up")
    average = f"weight average {t['ema']:g}" if t["ema"] else "no weight average"
    to_best = (teach["seconds"] if taught else 0) + sum(t["epoch_seconds"][:t["best_epoch"]])
    how = (f"teacher {t['teacher_setting']}, {average}" if taught else
           f"no teacher ({teach.get('why_none', 'none used')}), {average}")
    rows = [
        ("IMDB test accuracy", f"{t['test']['accuracy']:.4f}",
         f"`evaluate` on {n_test:,} test reviews; model of the best validation epoch "
         f"({t['best_epoch']} of {len(t['epoch_seconds'])} run) of the default `train` ({how}), "
         f"seed {settings['seed']}"),
        ("`train` wall time", f"{t['wall_seconds']:.1f} s",
         f"whole `sentiment-rnn train` command ({command(t)}; {how}; "
         f"{what_was_read(t)}): start-up, data, tokenizing, "
         + ("the teacher, " if taught else "") + "epochs, saving; one run"
         + (f"; includes the teacher's {teach['seconds']:.1f} s (next row)" if taught else "")),
    ]
    if taught:
        rows += [
            ("teacher time (inside `train`)", f"{teach['seconds']:.1f} s",
             f"config.json `data.teacher.seconds`: fit the teacher ({teach['kind']}) on "
             f"{teach['train_texts']:,} labelled training reviews (C chosen by validation log "
             f"loss: {teach['c']:g}), read and tokenize {teach['unlabelled_texts']:,} unlabelled "
             f"reviews ({teach['source']}), label the {teach['unlabelled_used']:,} that keep at "
             f"least one id; one run"),
            ("teacher validation accuracy", f"{teach['validation_accuracy']:.4f}",
             f"the teacher on the {t['validation_reviews']:,} validation reviews "
             f"(config.json `data.teacher.validation_accuracy`)"),
        ]
    rows += [
        ("epoch time, default `train`", f"{statistics.median(epochs):.2f} s",
         f"{t['train_rows_per_epoch']:,} training rows ({t['labelled_train_reviews']:,} labelled"
         f" + {t['teacher_labelled_reviews']:,} teacher-labelled) and {t['validation_reviews']:,}"
         f" validation reviews, training + validation pass, {average}; epochs "
         f"2-{len(t['epoch_seconds'])} (history.json), {spread(epochs)}"),
        ("time to best validation epoch, default `train`",
         f"{to_best:.1f} s",
         ("the teacher's seconds + " if taught else "")
         + f"history.json seconds of epochs 1-{t['best_epoch']} (state.json's best epoch); "
         f"tokenizing the labelled reviews and the vocabulary not included; not comparable with "
         f"the tables below, which read only the labelled reviews"),
        ("peak memory of `train`", f"{t['peak_mb']:,.0f} MB",
         "peak resident memory of that process (wait4 ru_maxrss)"),
        ("`train --teacher none` wall time", f"{p['wall_seconds']:.1f} s",
         f"whole command ({command(p)}; same seed, own run folder; "
         f"{what_was_read(p)}, no weight average): start-up, data, tokenizing, epochs, saving; "
         f"one run"),
        ("IMDB test accuracy, `train --teacher none`", f"{p['test']['accuracy']:.4f}",
         f"`evaluate` on {p['test']['n']:,} test reviews; model of its best validation epoch "
         f"({p['best_epoch']} of {len(p['epoch_seconds'])} run)"),
        ("peak memory of `train --teacher none`", f"{p['peak_mb']:,.0f} MB",
         "peak resident memory of that process (wait4 ru_maxrss)"),
        ("`evaluate` wall time", f"{t['evaluate_seconds']:.1f} s",
         f"whole `evaluate --json` command, {n_test:,} test reviews, numpy backend, the default "
         f"run's model; one run"),
    ]
    for backend in ("numpy", "keras"):
        rows.append((f"cold-start `predict`, {backend} backend",
                     f"{statistics.median(cold[backend]):.2f} s",
                     f"whole `predict --backend {backend}` command on one review, Python start-up "
                     f"and imports included, the default run's model; {spread(cold[backend])}"))
    for key, name in (("numpy", "NumPy (`Predictor(run, 'numpy').predict_ids`)"),
                      ("keras-graph", "Keras, `Predictor(run, 'keras')` as shipped: one `tf.function`"),
                      ("keras-eager", "Keras eager, `model(x)` (for reference; the old `--backend keras`)")):
        rows.append((f"throughput, {name}", f"{tp[key]:,.0f} reviews/s", same))
    rows[-1] = rows[-1][:2] + (rows[-1][2] + f"; the three agree within "
                                             f"{tp['max_abs_difference']:.1e}",)
    return rows


def pipeline_only(r: dict) -> list[tuple]:
    t, s = r["train_plain"], r["same_ids"]
    ours, plain = after_first(t["epoch_seconds"]), after_first(s["epoch_seconds"])
    ids = s["ids_read"]
    per_review = (ids["train_ids"] + ids["val_ids"]) / (ids["train_reviews"] + ids["val_reviews"])
    data = (f"{ids['train_reviews']:,} labelled train + {ids['val_reviews']:,} validation "
            f"reviews, the ids of `prepare` (default TrainConfig, no teacher: OOV dropped, last "
            f"200 ids, {per_review:.1f} ids/review on average); training + validation pass")
    return [
        ("epoch time, sentiment-rnn `--teacher none` (length-bucketed batches, each trimmed to "
         "its longest review)",
         f"{statistics.median(ours):.2f} s",
         f"{data}; epochs 2-{len(t['epoch_seconds'])} of the `train --teacher none` run above "
         f"(history.json; the default run's epochs also read the teacher's reviews), "
         f"{spread(ours)}{same_reviews(t, ids)}"),
        ("epoch time, plain Keras on the same ids (`from_tensor_slices -> shuffle -> batch(128) "
         "-> prefetch`, every batch padded to 200)", f"{statistics.median(plain):.2f} s",
         f"{data}; same model (build_model, compile_model: no weight average, as with "
         f"`--teacher none`), seed and op determinism; epochs 2-{len(s['epoch_seconds'])} of a "
         f"fresh process, {spread(plain)}"),
        ("epoch-time ratio, plain / sentiment-rnn (the pipeline alone)",
         f"{statistics.median(plain) / statistics.median(ours):.2f}x", "ratio of the two medians"),
    ]


def time_to_accuracy(r: dict) -> list[tuple]:
    t, tut = r["train_plain"], r["tutorial"]
    ours_to_best = sum(t["epoch_seconds"][:t["best_epoch"]])
    epochs = after_first(tut["epoch_seconds"])
    ids = tut["ids_read"]
    per_review = (ids["train_ids"] + ids["val_ids"]) / (ids["train_reviews"] + ids["val_reviews"])
    return [
        ("epoch time, Keras tutorial (TextVectorization, map once, `.cache()`, `.prefetch()`)",
         f"{statistics.median(epochs):.2f} s",
         f"{ids['train_reviews']:,} + {ids['val_reviews']:,} reviews, 1000-entry frequency "
         f"vocabulary, OOV kept, first 200 tokens ({per_review:.1f} ids/review), padded to 200; "
         f"epochs 2-{len(tut['epoch_seconds'])}, {spread(epochs)}; epoch 1 "
         f"({tut['epoch_seconds'][0]:.2f} s) also vectorizes"),
        ("time to best validation epoch, Keras tutorial", f"{tut['seconds_to_best']:.1f} s",
         f"sum of epoch times up to its best epoch ({tut['best_epoch']} of "
         f"{len(tut['epoch_seconds'])} run; EarlyStopping on val_accuracy, patience 2, best "
         f"weights restored); adapt() ({tut['adapt_seconds']:.1f} s) not included"),
        ("IMDB test accuracy, Keras tutorial", f"{tut['test_accuracy']:.4f}",
         f"`model.evaluate` on {tut['test_reviews']:,} test reviews, best epoch's weights"),
        ("time to best validation epoch, sentiment-rnn `--teacher none`",
         f"{ours_to_best:.1f} s",
         f"`train --teacher none` on the same {t['labelled_train_reviews']:,} + "
         f"{t['validation_reviews']:,} labelled reviews as the tutorial: sum of history.json "
         f"seconds up to state.json's best epoch ({t['best_epoch']} of "
         f"{len(t['epoch_seconds'])} run, patience 2); tokenizing and vocabulary not included"),
        ("IMDB test accuracy, sentiment-rnn `--teacher none`", f"{t['test']['accuracy']:.4f}",
         f"`evaluate` on {t['test']['n']:,} test reviews, best epoch's weights"),
        ("time-to-best ratio, tutorial / sentiment-rnn `--teacher none`",
         f"{tut['seconds_to_best'] / ours_to_best:.2f}x", "ratio of the two times above"),
    ]


def physical_floor(r: dict) -> list[tuple]:
    rates, s, tut, t = r["rates"], r["same_ids"], r["tutorial"], r["train_plain"]
    small = rates["small_flops_per_s"]
    ids = s["ids_read"]
    flops = epoch_flops(ids, 32, 32)
    floor_s = flops / small
    e, u = 32, 32  # embed_dim, units of the default TrainConfig
    step, out = 2 * (e * u + u * u), 2 * u
    formula = (f"3 x ({ids['train_ids']:,} train ids x {step:,} + {ids['train_reviews']:,} "
               f"reviews x {out}) + ({ids['val_ids']:,} validation ids x {step:,} + "
               f"{ids['val_reviews']:,} x {out}); per id 2(E*U + U*U) FLOPs (x_t W_xh, "
               f"h W_hh), per review 2U (h_T W_hy), E = U = {e}; backward = 2x forward; "
               f"padding not counted")
    tut_floor = epoch_flops(tut["ids_read"]) / small

    def times(name, seconds, floor, computed, read, note=""):
        ratio = epoch_flops(computed) / epoch_flops(read)
        return (f"epoch / floor, {name}", f"{seconds / floor:.0f}x",
                f"median epoch {seconds:.2f} s over {floor:.3f} s; it computes {ratio:.2f}x the "
                f"floor's FLOPs (padded steps included){note}")

    return [
        ("matmul rate, small (the RNN's shape)", f"{small / 1e9:.1f} GFLOP/s",
         f"NumPy {rates['small_what']}; the floor uses this rate"),
        ("matmul rate, big", f"{rates['big_flops_per_s'] / 1e9:.1f} GFLOP/s",
         f"NumPy {rates['big_what']}, all cores; for comparison only"),
        ("FLOPs per epoch, sentiment-rnn's ids (`--teacher none`)", f"{flops / 1e9:.2f} GFLOP",
         f"{formula}; the ids of the {ids['train_reviews']:,} labelled train + "
         f"{ids['val_reviews']:,} validation reviews, counted in the same-ids process"),
        ("floor per epoch, sentiment-rnn's ids (`--teacher none`)", f"{floor_s:.3f} s",
         "those FLOPs at the small-matmul rate"),
        times("sentiment-rnn `--teacher none`", statistics.median(after_first(t["epoch_seconds"])),
              floor_s, s["steps_computed_sentiment_rnn"], ids, same_reviews(t, ids)),
        times("plain Keras, same ids", statistics.median(after_first(s["epoch_seconds"])),
              floor_s, s["steps_computed"], ids),
        ("floor per epoch, the tutorial's ids", f"{tut_floor:.3f} s",
         f"same formula on its {tut['ids_read']['train_ids']:,} + {tut['ids_read']['val_ids']:,}"
         f" ids (OOV kept, first 200 tokens) at the small-matmul rate"),
        times("Keras tutorial (its own ids)", statistics.median(after_first(tut["epoch_seconds"])),
              tut_floor, tut["steps_computed"], tut["ids_read"]),
    ]


def install(r: dict) -> list[tuple]:
    i = r["install"]
    return [
        ("`python -m venv`", f"{i['venv_seconds']:.1f} s", "a fresh venv in a temporary folder"),
        ("`pip install -e .`", f"{i['pip_seconds']:.0f} s",
         f"--quiet --no-cache-dir into that venv: every dependency fetched from this machine's "
         f"package index; {i['packages']} packages in the end; one run"),
        ("venv size on disk", f"{i['size_mb']:,.0f} MB", "`du -sk` of the venv"),
    ]


def tables(r: dict, machine: dict, settings: dict) -> list[dict]:
    tabs = [("The default run", default_run(r, settings)),
            ("Epoch time on the same ids: the input pipeline alone", pipeline_only(r)),
            ("The tutorial a user would write, and time to accuracy", time_to_accuracy(r)),
            ("The physical floor of an epoch", physical_floor(r))]
    if "install" in r:
        tabs.append(("Install", install(r)))
    return [{"title": title, "rows": [dict(zip(("measure", "value", "conditions"), row))
                                      for row in rows]} for title, rows in tabs]


def print_tables(tabs: list[dict], machine: dict, settings: dict) -> None:
    load = (f"{machine['load_average_start'][0]:.2f} at start, "
            f"{machine['load_average_end'][0]:.2f} at end")
    print(f"Machine: {machine['cores']} cores, {machine['cpu']}; Python {machine['python']}, "
          f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, "
          f"NumPy {machine['numpy']}; 1-min load average {load}; seed {settings['seed']}; "
          f"{'--quick (smoke test, numbers mean nothing); ' if settings['quick'] else ''}"
          f"benchmark took {machine['benchmark_seconds']:.0f} s, {settings['date']}")
    for tab in tabs:
        print(f"\n### {tab['title']}\n\n| measure | value | conditions |\n|---|---|---|")
        for row in tab["rows"]:
            print(f"| {row['measure']} | {row['value']} | {row['conditions']} |")
