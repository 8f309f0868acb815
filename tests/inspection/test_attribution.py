"""Per-word attributions (inspection/attribution.py): integrated gradients add up to logit(text)
- logit(zero word vectors) within 1% on the tiny run's texts, a broken IG is flagged, gradient x
input and each word's IG agree with finite differences of the forward pass alone, words not
read get None; on every cell."""

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import tiny_corpus
import sentiment_rnn as sr
from sentiment_rnn.cli.commands import main
from sentiment_rnn.files.weights import shapes
from sentiment_rnn.inspection import attribution
from sentiment_rnn.inspection.attribution import TOLERANCE, attribute, relative_error
from sentiment_rnn.inspection.trace import format_trace, trace
from sentiment_rnn.nn.numpy_cells import from_arrays
from sentiment_rnn.nn.numpy_rnn import NumpyRNN

CELLS = ("simple", "gru", "lstm")
MIXED = ["great fun but boring and dull, the worst", "zzz superb wonderful loved it",
         "the plot was dull and the story was boring and the film was superb and great fun",
         "awful", "great"]


def random_model(cell: str, seed: int = 0, scale: float = 1.0):
    """A model of `cell` with 20 words, 5-dimensional embeddings and 4 units, from a seeded
    normal distribution: larger `scale`, a more nonlinear path for IG."""
    rng = np.random.default_rng(seed)
    return from_arrays(cell, {name: rng.normal(0, scale * (1.0 if name == "embedding" else 0.7),
                                               shape)
                              for name, shape in shapes(20, 5, 4, cell).items()})


def ids_of(model, texts):
    return [np.array(model.ids(t)) for t in texts if model.ids(t)]


def test_completeness_holds_on_the_tiny_runs_texts(trained_run):
    model = sr.load(trained_run)
    texts = [t for t, _ in tiny_corpus(30)] + MIXED
    for ids in ids_of(model, texts):
        a = attribute(model.weights, ids)
        x = model.weights.inputs(ids[None])[1]
        logit = model.weights.logit(ids[None])[0]  # the two ends, from the forward pass alone
        baseline = model.weights.logit(ids[None], x=np.zeros_like(x))[0]
        assert (a["logit"], a["baseline_logit"]) == pytest.approx((logit, baseline), abs=1e-12)
        assert sum(a["ig"]) == pytest.approx(a["ig_sum"], abs=1e-12)
        assert a["ok"] and a["relative_error"] <= TOLERANCE
        assert abs(a["ig_sum"] - (logit - baseline)) <= TOLERANCE * max(abs(logit - baseline),
                                                                     attribution.FLOOR)
        assert len(a["ig"]) == len(a["grad_x_input"]) == len(ids)


@pytest.mark.parametrize("cell", CELLS)
def test_completeness_holds_on_every_cell(cell):
    model = random_model(cell, scale=2.0)
    rng = np.random.default_rng(1)
    for length in (1, 3, 12, 40):
        a = attribute(model, rng.integers(1, 20, length))
        assert a["ok"] and abs(a["ig_sum"] - (a["logit"] - a["baseline_logit"])) <= \
            TOLERANCE * max(abs(a["logit"] - a["baseline_logit"]), attribution.FLOOR)


def steep_model() -> NumpyRNN:
    """One unit, one embedding dimension: logit(alpha x) = tanh(5 alpha), steep near 0."""
    one = np.ones((1, 1))
    return NumpyRNN(embedding=np.array([[0.0], [1.0]]), W_xh=5 * one, W_hh=0 * one,
                    b_h=np.zeros(1), W_hy=one, b_y=np.zeros(1))


def test_too_few_steps_are_flagged_and_refining_fixes_them():
    one_step = attribute(steep_model(), [1], steps=1, max_steps=1)
    # the trapezoid with one interval: (f'(0) + f'(1)) / 2 = 2.5 (1 + 1 - tanh(5)^2), not tanh(5)
    assert one_step["ig_sum"] == pytest.approx(2.5 * (2 - np.tanh(5) ** 2), rel=1e-12)
    assert one_step["relative_error"] == pytest.approx(one_step["ig_sum"] / np.tanh(5) - 1)
    assert not one_step["ok"] and one_step["steps"] == 1
    refined = attribute(steep_model(), [1], steps=1)
    assert refined["ok"] and 1 < refined["steps"] <= attribution.MAX_STEPS
    assert refined["ig"][0] == pytest.approx(np.tanh(5), rel=TOLERANCE)


def test_a_wrong_gradient_is_flagged_in_the_trace_and_the_table(trained_run, monkeypatch):
    real = NumpyRNN.gradients

    def five_percent_off(self, ids, x=None):
        d_x, d_h = real(self, ids, x)
        return d_x * 1.05, d_h

    monkeypatch.setattr(NumpyRNN, "gradients", five_percent_off)
    report = trace(trained_run, "great fun but boring and dull")
    a = report["attribution"]
    assert not a["ok"] and a["steps"] == attribution.MAX_STEPS  # refining cannot fix it
    assert a["relative_error"] == pytest.approx(0.05, abs=0.005)
    assert f"(NOT within 1%, {attribution.MAX_STEPS} steps)" in format_trace(report)


def test_relative_error_has_a_floor_for_a_difference_near_zero():
    assert relative_error(1.01, 1.0) == pytest.approx(0.01)
    assert relative_error(-2.0, -2.5) == pytest.approx(0.2)
    assert relative_error(1e-5, 0.0) == pytest.approx(1e-5 / attribution.FLOOR)
    assert relative_error(0.0, 1e-9) == pytest.approx(1e-9 / attribution.FLOOR)


@pytest.mark.parametrize("cell", CELLS)
def test_grad_x_input_is_each_steps_directional_derivative(cell):
    """d/d eps logit(x with x_t scaled by 1 + eps) at eps = 0, by central differences of the
    forward pass: no backward pass involved."""
    model = random_model(cell)
    ids = np.array([[3, 7, 1, 19, 7]])
    x = model.inputs(ids)[1]
    got = attribute(model, ids[0])["grad_x_input"]
    eps = 1e-6
    for t in range(ids.shape[1]):
        up, down = x.copy(), x.copy()
        up[0, t] *= 1 + eps
        down[0, t] *= 1 - eps
        want = (model.logit(ids, x=up)[0] - model.logit(ids, x=down)[0]) / (2 * eps)
        assert got[t] == pytest.approx(want, rel=1e-6, abs=1e-9)
    whole = (model.logit(ids, x=(1 + eps) * x)[0] - model.logit(ids, x=(1 - eps) * x)[0]) / (2 * eps)
    assert sum(got) == pytest.approx(whole, rel=1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_each_words_ig_is_a_dense_quadrature_of_the_forward_pass(cell):
    """IG_t = integral over alpha of d/d eps logit(alpha x + eps x_t e_t): the derivative by
    central differences, the integral by Simpson's rule on 2,001 alphas."""
    model = random_model(cell, seed=2)
    ids = np.array([[4, 11, 2]])
    x = model.inputs(ids)[1]
    got = attribute(model, ids[0])["ig"]
    alphas, eps = np.linspace(0, 1, 2001), 1e-6
    weights = np.ones_like(alphas)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    weights /= 3 * (len(alphas) - 1)
    rows = np.repeat(ids, len(alphas), axis=0)
    for t in range(ids.shape[1]):
        step = np.zeros_like(x)
        step[0, t] = x[0, t]
        xs = alphas[:, None, None] * x
        g = (model.logit(rows, x=xs + eps * step) - model.logit(rows, x=xs - eps * step)) / (2 * eps)
        assert got[t] == pytest.approx(weights @ g, rel=2e-3, abs=1e-6)


def test_a_one_word_texts_ig_is_its_logit_minus_the_baselines(trained_run):
    model = sr.load(trained_run).weights
    for word_id in (2, 5, 9, 20):
        ids = np.array([[word_id]])
        exact = model.logit(ids)[0] - model.logit(ids, x=np.zeros((1, 1, 8)))[0]
        a = attribute(model, ids[0])
        assert a["ig"][0] == pytest.approx(exact, rel=1e-4)
    # and analytically: logit(alpha x) = tanh(5 alpha) on the steep model
    assert attribute(steep_model(), [1])["ig"][0] == pytest.approx(np.tanh(5), rel=TOLERANCE)


def test_words_not_read_get_none(trained_run):
    text = ("zzz the movie was great and fun, qqq the plot was a dull and the story was "
            "boring and the film was superb")  # 2 out of vocabulary, 9 cut by max_len 12
    report = trace(trained_run, text)
    for row in report["tokens"]:
        values = (row["grad_x_input"], row["integrated_gradients"])
        if row["status"] == "read":
            assert all(isinstance(v, float) for v in values)
        else:
            assert values == (None, None)
    read = [r["integrated_gradients"] for r in report["tokens"] if r["status"] == "read"]
    assert len(read) == 12 and sum(read) == pytest.approx(report["attribution"]["ig_sum"])
    nothing = trace(trained_run, "zzz qqq")  # no word read: nothing to attribute
    assert nothing["attribution"] is None
    assert {(r["grad_x_input"], r["integrated_gradients"]) for r in nothing["tokens"]} == \
        {(None, None)}
    assert "Completeness" not in format_trace(nothing)
    skipped = trace(trained_run, "great fun", attributions=False)
    assert skipped["attribution"] is None and skipped["tokens"][0]["integrated_gradients"] is None


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="no padding"):
        attribute(steep_model(), [1, 0])
    with pytest.raises(ValueError, match="steps <= max_steps"):
        attribute(steep_model(), [1], steps=8, max_steps=4)


def test_the_api_and_the_json_carry_the_attributions(trained_run):
    model = sr.load(trained_run)
    t = model.trace("zzz great fun but boring")
    report = t.to_dict()
    assert t.attributions == [(r["word"], r["grad_x_input"], r["integrated_gradients"])
                              for r in report["tokens"] if r["status"] == "read"]
    assert [w for w, _, _ in t.attributions] == ["great", "fun", "boring"]  # zzz, but unknown
    assert all(isinstance(v, float) for _, gxi, ig in t.attributions for v in (gxi, ig))
    assert "integrated gradients" in t._repr_html_()
    import json

    result = CliRunner().invoke(main, ["inspect", "--model", str(trained_run), "--json",
                                       "zzz great fun but boring"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attribution"] == pytest.approx(report["attribution"])


def test_each_read_word_carries_its_own_attribution_in_order(trained_run):
    """The trace's rows hold attribute()'s values word by word: a shuffled or reversed column
    (whose sum is the same) or the two columns swapped must fail."""
    model = sr.load(trained_run)
    report = trace(trained_run, "zzz great fun but boring and dull")
    read = [r for r in report["tokens"] if r["status"] == "read"]
    ids = np.array([r["id"] for r in read])
    assert ids.tolist() == model.ids("zzz great fun but boring and dull")
    a = attribute(model.weights, ids)
    assert a["ig"] != a["ig"][::-1] and a["ig"] != pytest.approx(a["grad_x_input"], rel=1e-3)
    assert [r["integrated_gradients"] for r in read] == pytest.approx(a["ig"], rel=1e-12)
    assert [r["grad_x_input"] for r in read] == pytest.approx(a["grad_x_input"], rel=1e-12)
