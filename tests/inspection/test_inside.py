"""inspect: the weights, the parity check, the word-by-word trace, its plot and JSON; and that
the NumPy paths never import TensorFlow. NumPy-vs-Keras parity on padded, unpadded and one-word
id arrays is in test_numpy_rnn.py; here it is checked through the command on validation reviews."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE
from sentiment_rnn.inspection import overview as overviewing
from sentiment_rnn.inspection import trace as inspecting
from sentiment_rnn.cli.commands import main
from sentiment_rnn.nn.numpy_rnn import NAMES, NumpyRNN
from sentiment_rnn.prediction.predictor import Predictor
from sentiment_rnn.files.atomic import sha256_file
from sentiment_rnn.files.run_folder import load_run

LONG = ("zzz the movie was great and fun, qqq the plot was a dull and the story was "
        "boring and the film was superb")  # 23 words, 2 unknown: 21 kept, max_len 12 keeps 12


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_overview_shows_every_weight_the_memory_and_the_word_ranking(trained_run):
    result = invoke("inspect", "--model", trained_run, "--check", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    model = NumpyRNN.load(trained_run / "weights.npz", 28, 8, 6)
    rho = np.max(np.abs(np.linalg.eigvals(model.W_hh)))
    assert lines[1] == "Embedding -> SimpleRNN -> Dense(sigmoid), 321 parameters"
    assert lines[3].split() == ["weight", "role", "shape", "params", "norm", "max", "|w|"]
    assert [line.split()[0] for line in lines[4:10]] == list(NAMES)
    assert lines[6].startswith("W_hh       recurrent kernel, h_{t-1} -> h_t     (6, 6)      36 "
                               f"{np.linalg.norm(model.W_hh):>8.3f}")
    assert lines[9].startswith("b_y        output bias                            (1,)       1 ")
    assert f"rho = {rho:.3f} (largest |eigenvalue|" in result.output
    assert "Parity: skipped (--check 0)" in lines
    ranking = lines[lines.index("Parity: skipped (--check 0)") + 3:][:13]
    assert len(ranking) == 13  # 26 words: 13 a side
    # the tiny corpus's 8 sentiment words of each kind head their lists
    assert {row.split()[1] for row in ranking[:8]} == set(POSITIVE)
    assert {row.split()[3] for row in ranking[:8]} == set(NEGATIVE)
    assert "Found by running each of the 26 vocabulary words alone" in result.output


def test_word_ranking_is_each_word_alone_through_predict(trained_run):
    """Checked against the formula worked by hand from weights.npz (one step from h_0 = 0),
    not against the forward pass the ranking itself uses."""
    run, model = inspecting.load(trained_run)
    ranking = overviewing.word_ranking(run, model)
    with np.load(trained_run / "weights.npz", allow_pickle=False) as w:
        h = np.tanh(w["embedding"][2:] @ w["W_xh"] + w["b_h"])  # each word alone, from h_0 = 0
        logits = (h @ w["W_hy"] + w["b_y"]).ravel()
    probs = 1 / (1 + np.exp(-logits.astype(np.float64)))
    words = run.vocab.words[2:]
    k = len(ranking["most_positive"])
    assert k == 13  # 26 words, 13 a side
    p = dict(zip(words, probs))
    for side, sign in (("most_positive", 1), ("most_negative", -1)):
        rows = ranking[side]
        assert [r["probability"] for r in rows] == pytest.approx([p[r["word"]] for r in rows],
                                                                 abs=1e-6)
        listed = [sign * p[r["word"]] for r in rows]
        assert listed == sorted(listed, reverse=True)  # best first
        others = [sign * p[w] for w in words if w not in {r["word"] for r in rows}]
        assert min(listed) >= max(others) - 1e-6  # no word left out is better


def test_parity_check_on_validation_reviews_passes(trained_run, tiny_data_dir):
    result = invoke("inspect", "--model", trained_run, "--check", "5",
                    "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    assert "Parity: NumPy vs Keras on 5 IMDB validation reviews: OK" in result.output
    diff = float(re.search(r"largest \|difference\| in P\(positive\) (\S+) \(limit 1e-05\)",
                           result.output).group(1))
    assert diff < 1e-5
    gradient = float(re.search(r"largest relative difference in d logit / d x_t "
                               r"\(backpropagation through time vs GradientTape\) (\S+)",
                               result.output).group(1))
    assert gradient <= 1e-5


@pytest.mark.parametrize("wrong, shown", [
    (lambda d_x: d_x * 1.001, r"0\.001"),  # a backward pass 0.1% off: P still agrees
    (lambda d_x: np.where(d_x != 0, np.nan, d_x), "nan"),  # NaN is never a match
], ids=["off-by-0.1%", "nan"])
def test_parity_check_fails_when_the_backward_pass_is_wrong(trained_run, tiny_data_dir,
                                                            monkeypatch, wrong, shown):
    real = NumpyRNN.gradients

    def wrong_gradients(self, ids):
        d_x, d_h = real(self, ids)
        return wrong(d_x), d_h

    monkeypatch.setattr(NumpyRNN, "gradients", wrong_gradients)
    result = invoke("inspect", "--model", trained_run, "--check", "5", "--data-dir",
                    tiny_data_dir)
    assert result.exit_code == 1
    assert "Parity: NumPy vs Keras on 5 IMDB validation reviews: FAILED" in result.output
    assert re.fullmatch(rf"Error: {re.escape(str(trained_run))}: the NumPy backward pass and "
                        rf"GradientTape differ by up to {shown} \(relative\) on 5 IMDB validation "
                        rf"reviews \(limit 1e-05\)", result.output.splitlines()[-1])


def test_parity_check_fails_when_weights_npz_disagrees_with_model_keras(run_copy, tiny_data_dir):
    with np.load(run_copy / "weights.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["W_hy"] = -arrays["W_hy"]  # the NumPy model now says the opposite
    NumpyRNN.save(run_copy / "weights.npz", arrays)
    # as if training had exported wrong weights: state.json records the wrong file's sha256
    state = json.loads((run_copy / "state.json").read_text())
    state["sha256"]["weights.npz"] = sha256_file(run_copy / "weights.npz")
    (run_copy / "state.json").write_text(json.dumps(state))
    result = invoke("inspect", "--model", run_copy, "--data-dir", tiny_data_dir)
    assert result.exit_code == 1
    assert "Parity: NumPy vs Keras on 12 IMDB validation reviews: FAILED" in result.output
    last = result.output.splitlines()[-1]
    assert re.fullmatch(rf"Error: {re.escape(str(run_copy))}: weights.npz and model.keras "
                        rf"disagree by up to 0\.\d+ on 12 IMDB validation reviews "
                        rf"\(limit 1e-05\)", last)


def test_trace_ends_at_predicts_probability_and_reports_oov_and_cut_words(trained_run):
    report = inspecting.trace(trained_run, LONG)
    p = Predictor(trained_run, "numpy").predict([LONG])[0]
    read = [t for t in report["tokens"] if t["status"] == "read"]
    assert len(read) == 12 and [t["step"] for t in read] == list(range(1, 13))
    # the same arithmetic as predict; the tolerance only allows for BLAS summation order
    assert read[-1]["probability"] == pytest.approx(p, abs=1e-12) == report["probability"]
    assert report["label"] == ("positive" if p >= 0.5 else "negative")
    assert report["oov_words"] == ["zzz", "qqq"]
    assert (report["truncated"], report["cut"]) == (True, 9)
    statuses = [t["status"] for t in report["tokens"]]
    assert statuses == ["dropped"] + ["cut"] * 6 + ["dropped"] + ["cut"] * 3 + ["read"] * 12
    assert [t["word"] for t in read][:3] == ["a", "dull", "and"]
    model = NumpyRNN.load(trained_run / "weights.npz", 28, 8, 6)
    assert report["start_probability"] == pytest.approx(1 / (1 + np.exp(-model.b_y[0])), abs=1e-15)


def test_trace_table_shows_each_word_where_it_turns_and_the_summary(trained_run):
    text = "zzz boring, great superb wonderful loved"
    result = invoke("inspect", "--model", trained_run, text)
    assert result.exit_code == 0, result.output
    report = inspecting.trace(trained_run, text)
    vocab = load_run(trained_run).vocab
    boring, last = report["tokens"][1], report["tokens"][-1]
    lines = result.output.splitlines()
    assert lines[4] == "   -  zzz                OOV  dropped (out of vocabulary)"
    assert lines[3].startswith("   t  word                id  P(pos)   change  IG (logit)  ")
    assert lines[5].startswith(f"   1  boring           {vocab.index['boring']:>5}  "
                               f"{boring['probability']:.4f}  "
                               f"{boring['probability'] - report['start_probability']:+.4f}  "
                               f"{boring['integrated_gradients']:>+10.4f}  ")
    # a turn is marked exactly where the label changes, and this review turns
    labels = ["positive" if report["start_probability"] >= 0.5 else "negative"] + [
        "positive" if t["probability"] >= 0.5 else "negative" for t in report["tokens"][1:]]
    turns = [f"  <- turns {b}" if a != b else "" for a, b in zip(labels, labels[1:])]
    assert sum(map(bool, turns)) >= 1
    assert [line.endswith(turn) and ("turns" in line) == bool(turn)
            for line, turn in zip(lines[5:10], turns)] == [True] * 5
    assert "\x1b[" not in result.output
    assert lines[9].startswith(f"   5  loved            {vocab.index['loved']:>5}  "
                               f"{last['probability']:.4f}  ")
    a = report["attribution"]
    assert lines[-6:-1] == ["Out of vocabulary: zzz (dropped)",
                            "Cut to max_len: no (5 of 12 words read)", lines[-4],
                            "IG (logit): integrated gradients, each word's share of logit(text) "
                            "- logit(zero word vectors)",
                            f"Completeness: IG sum {a['ig_sum']:+.4f}, logit {a['logit']:+.4f} - "
                            f"baseline {a['baseline_logit']:+.4f} = "
                            f"{a['logit'] - a['baseline_logit']:+.4f}: off by "
                            f"{a['relative_error']:.2%} (ok, {a['steps']} steps)"]
    assert lines[-4].startswith("Largest moves: ")
    assert lines[-1] == (f"P(positive) = {last['probability']:.4f} -> positive  "
                         f"(what `sentiment-rnn predict` gives)")
    assert "\x1b[32m" in inspecting.format_trace(report, color=True)


def test_trace_table_collapses_the_words_cut_to_max_len(trained_run):
    result = invoke("inspect", "--model", trained_run, LONG)
    assert result.exit_code == 0, result.output
    assert "   …  11 earlier words not read: 9 cut to max_len 12, 2 out of vocabulary" in \
        result.output.splitlines()
    assert "Cut to max_len: yes, the first 9 words; the model reads the last 12" in result.output


def test_json_has_exactly_these_keys(trained_run):
    result = invoke("inspect", "--model", trained_run, "--json", "zzz great and boring")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["cell"] == "simple"
    assert set(report) == {"model", "cell", "text", "max_len", "drop_oov", "units",
                           "start_probability",
                           "probability", "label", "tokens", "oov_words", "truncated", "cut",
                           "attribution"}
    assert [set(t) for t in report["tokens"]] == [{"word", "id", "oov", "status", "step", "h",
                                                   "probability", "grad_x_input",
                                                   "integrated_gradients"}] * 4
    assert report["tokens"][0] == {"word": "zzz", "id": 1, "oov": True, "status": "dropped",
                                   "step": None, "h": None, "probability": None,
                                   "grad_x_input": None, "integrated_gradients": None}
    assert set(report["attribution"]) == {"baseline_logit", "logit", "ig_sum", "relative_error",
                                          "steps", "ok"}
    assert len(report["tokens"][3]["h"]) == 6

    result = invoke("inspect", "--model", trained_run, "--json", "--check", "0")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"model", "cell", "weights", "memory", "parity", "words"}
    assert list(report["weights"]) == list(NAMES)
    assert report["weights"]["W_hh"]["shape"] == [6, 6]
    assert [set(w) for w in report["weights"].values()] == [{"shape", "params", "norm",
                                                             "max_abs"}] * 6
    assert set(report["memory"]) == {"spectral_radius", "spectral_norm", "meaning"}
    assert report["parity"] is None
    assert set(report["words"]) == {"most_positive", "most_negative", "method"}


def test_plot_writes_a_png_of_the_expected_size(trained_run, tmp_path):
    import matplotlib.image

    path = tmp_path / "trace.png"
    result = invoke("inspect", "--model", trained_run, "--plot", path, "great fun but boring")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"Plot: {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(path).shape == (650, 800, 4)  # 8 x 6.5 inches at 100 dpi


@pytest.mark.parametrize("args, message", [
    (["--plot", "{tmp}/x.png", "zzz qqq"],
     "Error: no word of the text is in the vocabulary, so there is nothing to plot"),
    (["--plot", "{tmp}/missing/x.png", "great"],
     "Error: {tmp}/missing/x.png: No such file or directory"),
])
def test_bad_input_gives_one_line(trained_run, tmp_path, args, message):
    result = invoke("inspect", "--model", trained_run, *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 1
    assert result.output == message.format(tmp=tmp_path) + "\n"


def test_a_damaged_weights_file_is_refused(run_copy):
    with open(run_copy / "weights.npz", "ab") as f:
        f.write(b"extra")
    result = invoke("inspect", "--model", run_copy, "--check", "0")
    assert (result.exit_code, result.output) == (1, f"Error: {run_copy}: weights.npz is damaged "
                                                    f"(its sha256 differs from the one recorded "
                                                    f"in state.json); if you changed it on "
                                                    f"purpose, seal the run: sentiment-rnn seal "
                                                    f"{run_copy}\n")


def test_bad_usage_and_missing_run_folder(trained_run, tmp_path):
    result = invoke("inspect", "--model", tmp_path / "nope", "great")
    assert (result.exit_code, result.output) == (1, f"Error: {tmp_path / 'nope'}: no such run "
                                                    f"folder\n")
    result = invoke("inspect", "--model", trained_run, "--plot", tmp_path / "x.png")
    assert result.exit_code == 2 and "--plot needs a TEXT to trace" in result.output
    result = invoke("inspect", "--model", trained_run, "--plot", tmp_path / "x.jpg", "great")
    assert result.exit_code == 2 and "x.jpg is not a .png file name" in result.output


def test_stdin_text(trained_run):
    result = invoke("inspect", "--model", trained_run, "--json", "-", input="great\n\nboring\n")
    assert result.exit_code == 0, result.output
    assert [t["word"] for t in json.loads(result.output)["tokens"]] == ["great", "boring"]


def test_numpy_paths_never_import_tensorflow(trained_run, tmp_path):
    script = f"""
import sys
from sentiment_rnn.cli.commands import main
run = {str(trained_run)!r}
for args in (["predict", "--model", run, "--backend", "numpy", "great fun"],
             ["predict", "--model", run, "great fun"],
             ["inspect", "--model", run, "--check", "0"],
             ["inspect", "--model", run, "--plot", {str(tmp_path / "p.png")!r}, "great fun"]):
    main(args, standalone_mode=False)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=Path(__file__).parents[2], timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "[]"


def test_an_lstm_trace_shows_its_cell_state(lstm_run):
    """Every word read carries h_t and, for an LSTM, c_t: the NumPy pass's own states."""
    from sentiment_rnn.inspection.trace import load

    result = invoke("inspect", "--model", lstm_run, "--json", "great and boring zzz film")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["cell"] == "lstm"
    read = [t for t in report["tokens"] if t["status"] == "read"]
    run, model = load(lstm_run)
    ids = np.array([[t["id"] for t in read]])
    np.testing.assert_allclose([t["c"] for t in read], model.cell_states(ids)[0], rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose([t["h"] for t in read], model.hidden_states(ids)[0], rtol=0,
                               atol=1e-12)
    table = invoke("inspect", "--model", lstm_run, "great and boring zzz film").output
    assert "c_t (clipped to ±1)" in table.splitlines()[3]
    overview = invoke("inspect", "--model", lstm_run, "--check", "0").output
    assert "Embedding -> LSTM -> Dense(sigmoid)" in overview
    assert "W_hf       forget gate, h_{t-1} -> f_t" in overview
