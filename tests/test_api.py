"""The Python API: `import sentiment_rnn as sr`; the same answers as the command line."""

import inspect
import json
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from click.testing import CliRunner

import sentiment_rnn as sr
from conftest import TINY_TRAIN_ARGS
from sentiment_rnn.cli.commands import main


def cli_json(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_load_and_predict_without_importing_tensorflow(trained_run):
    code = ("import sys, sentiment_rnn as sr; m = sr.load(sys.argv[1]); "
            "p = m.predict(['great fun', 'boring awful', '!!!']); "
            "print(p.round(6).tolist(), m.classify(['great fun', 'zzz']), "
            "'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(trained_run)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    probs, _, rest = out.stdout.partition("]")
    assert rest.strip().endswith("False")  # TensorFlow never imported
    assert "'unknown']" in rest and "nan" in probs


def test_predict_and_classify_equal_the_cli(trained_run):
    model = sr.load(trained_run)
    texts = ["great fun", "boring, awful", "", "zzz qqq"]
    rows = [json.loads(r) for r in CliRunner().invoke(
        main, ["predict", "--model", str(trained_run), "--json", *texts]).stdout.splitlines()]
    probs = model.predict(texts)
    assert [None if np.isnan(p) else p for p in probs] == [r["probability"] for r in rows]
    assert model.classify(texts) == [r["label"] for r in rows]
    assert model.classify(texts, threshold=0.0)[:2] == ["positive", "positive"]
    assert model.predict("great fun").shape == (1,)  # one text, not its characters
    with pytest.raises(ValueError, match="threshold"):
        model.classify(texts, threshold=1.5)
    with pytest.raises(TypeError):
        model.predict([1, 2])


def test_trace_is_inspects_json_and_draws_and_colours(trained_run):
    model = sr.load(trained_run)
    text = "zzz boring, great superb wonderful"
    trace = model.trace(text)
    assert trace.to_dict() == cli_json("inspect", "--model", trained_run, "--json", text)
    html = trace._repr_html_()
    read = [t for t in trace.to_dict()["tokens"] if t["status"] == "read"]
    assert html.count("background:rgba(") == len(read) == 4
    assert html.count("line-through") == 1  # zzz: greyed, dropped
    fig = trace.plot()
    assert type(fig).__name__ == "Figure" and len(fig.axes) == 3  # curve, heatmap, colorbar
    unknown = model.trace("zzz qqq")
    assert (unknown.label, unknown.probability) == ("unknown", None)
    assert "unknown" in unknown._repr_html_()


def test_overview_is_inspect_without_a_text(trained_run):
    assert sr.load(trained_run).overview() == cli_json("inspect", "--model", trained_run,
                                                       "--json", "--check", "0")


def test_train_prints_nothing_changes_nothing_and_runs_in_a_thread(tiny_data_dir, tmp_path,
                                                                    capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run outside models/ leaves models/latest alone anyway
    from tensorflow.python.framework import config as switches

    before = (signal.getsignal(signal.SIGINT), switches.is_op_determinism_enabled(),
              np.random.get_state()[1][:5].tolist())
    pairs = [a for a in TINY_TRAIN_ARGS if a != "--no-jit"]  # the rest are option, value
    args = dict(zip([a.lstrip("-").replace("-", "_") for a in pairs[::2]], pairs[1::2]))
    settings = {k: (float(v) if k == "learning_rate" else int(v)) for k, v in args.items()}
    settings.update(epochs=3, jit_compile=False)
    results = []
    worker = threading.Thread(target=lambda: results.append(sr.train(
        run_dir=tmp_path / "run", data_dir=tiny_data_dir, **settings)))
    worker.start()
    worker.join(timeout=120)
    trained = results[0]
    assert capfd.readouterr().out == ""
    assert (trained.best_epoch, trained.completed, len(trained.history)) == (
        max(range(1, 4), key=lambda e: (trained.history[e - 1]["val_accuracy"],
                                        -trained.history[e - 1]["val_loss"])), True, 3)
    assert isinstance(trained.model, sr.Model)
    assert (signal.getsignal(signal.SIGINT), switches.is_op_determinism_enabled(),
            np.random.get_state()[1][:5].tolist()) == before
    metrics = sr.evaluate(trained.model, data_dir=tiny_data_dir)
    assert metrics == cli_json("evaluate", "--model", tmp_path / "run", "--data-dir",
                               tiny_data_dir, "--json")


def test_the_api_is_documented_at_the_top_level():
    assert set(sr.__all__) >= {"load", "train", "evaluate", "Model", "Trace"}
    import sentiment_rnn.api
    import sentiment_rnn.training.train  # a module of that name must not hide sr.train

    assert (sr.train, sr.evaluate) == (sentiment_rnn.api.train, sentiment_rnn.api.evaluate)
    assert sr.train is not sentiment_rnn.training.train.train  # the API's, not the CLI's internals
    assert list(inspect.signature(sr.train).parameters)[:2] == ["data", "run_dir"]


def test_weights_and_ids_are_what_the_forward_pass_reads(trained_run):
    from sentiment_rnn.nn.numpy_rnn import sigmoid

    model = sr.load(trained_run)
    ids = model.ids("zzz boring, great superb wonderful")
    vocab = model.run.vocab
    assert ids == [vocab.index[w] for w in ("boring", "great", "superb", "wonderful")]
    w, h = model.weights, np.zeros(model.config.units)
    for i in ids:  # the recurrence by hand
        h = np.tanh(w.embedding[i] @ w.W_xh + h @ w.W_hh + w.b_h)
    assert float(sigmoid(h @ w.W_hy + w.b_y)[0]) == pytest.approx(
        model.predict("zzz boring, great superb wonderful")[0], abs=1e-12)
