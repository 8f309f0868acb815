"""The memory horizon (inspection/memory.py): the curves against the model's own gradients and
predictions worked by hand, the half-life fit on known curves, and a model that reads only the
last word. The probe is in test_probe.py, the validation reviews in test_validation.py."""

import math

import numpy as np
import pytest

from sentiment_rnn.inspection import memory as mem
from sentiment_rnn.nn.numpy_rnn import NumpyRNN
from sentiment_rnn.text.vocabulary import pad


def tiny_rnn(seed=0, vocab=12, embed=4, units=5, recurrent=0.6) -> NumpyRNN:
    rng = np.random.default_rng(seed)
    return NumpyRNN(rng.normal(size=(vocab, embed)), rng.normal(size=(embed, units)),
                    recurrent * rng.normal(size=(units, units)) / math.sqrt(units),
                    0.1 * rng.normal(size=units), rng.normal(size=(units, 1)),
                    np.array([0.2]))


# reviews of 1 to 7 words, front-padded to 8 (ids 2..11; 0 is padding)
REVIEWS = [[3], [4, 5, 6], [7, 2, 9, 10, 11, 3, 4], [5, 5, 8, 2], [11, 10, 9, 8, 7, 6, 5]]
IDS = pad(REVIEWS, 8)


def test_distances_count_words_read_back_from_the_end():
    assert mem.distances(pad([[4, 5, 6], [7]], 4)).tolist() == [[0, 3, 2, 1], [0, 0, 0, 1]]


def test_gradient_curve_is_the_mean_norm_of_model_gradients_at_each_distance():
    model = tiny_rnn()
    means, counts = mem.gradient_curve(model, IDS, batch_size=2)  # several sorted batches
    by_k = {}
    for review in REVIEWS:  # each review alone, unpadded: the word at distance k is [-k]
        d_x, _ = model.gradients(np.array([review]))
        for k in range(1, len(review) + 1):
            by_k.setdefault(k, []).append(np.linalg.norm(d_x[0, -k]))
    assert counts == [len(by_k.get(k, [])) for k in range(1, 9)] == [5, 4, 4, 3, 2, 2, 2, 0]
    assert means[:7] == pytest.approx([np.mean(by_k[k]) for k in range(1, 8)], rel=1e-12)
    assert means[7] is None  # no review reads 8 words


def test_leave_one_out_is_the_change_in_p_with_the_word_removed():
    model = tiny_rnn(1)
    ks = [1, 2, 3, 7, 8]
    means, counts = mem.leave_one_out_curve(model, IDS, ks)
    p = {tuple(r): model.predict_proba(np.array([r]))[0] for r in REVIEWS}
    for k, got, n in zip(ks, means, counts):
        changes = [abs(p[tuple(r)] - model.predict_proba(np.array([r[:len(r) - k] +
                                                                    r[len(r) - k + 1:] or [0]]))[0])
                   for r in REVIEWS if len(r) >= k]
        assert n == len(changes)
        assert got == (pytest.approx(np.mean(changes), rel=1e-12) if changes else None)
    assert mem.without_word(pad([[4, 5, 6]], 4), 2).tolist() == [[0, 0, 4, 6]]


def test_the_leave_one_out_grid_is_every_k_to_20_then_log_spaced():
    assert mem.loo_grid(12) == list(range(1, 13))
    grid = mem.loo_grid(200)
    assert grid[:20] == list(range(1, 21)) and grid[-1] == 200 and grid == sorted(set(grid))
    assert 30 <= len(grid) <= 40


def test_half_life_fit_recovers_a_known_exponential_and_skips_thin_distances():
    ks = list(range(1, 101))
    values = [3.0 * 0.5 ** (k / 7.0) for k in ks]
    counts = [1000] * 60 + [50] * 40  # k > 60: fewer than a tenth of 1,000 reviews
    values[70:] = [1.0] * 30  # noise there must not enter the fit
    fit = mem.half_life(ks, values, counts, reviews=1000)
    assert fit["half_life"] == pytest.approx(7.0, rel=1e-9)
    assert fit["fit_k"] == [1, 60] and fit["min_reviews"] == 100
    rising = mem.half_life(ks, [1 + k for k in ks], [1000] * 100, 1000)
    assert rising["half_life"] is None and rising["slope"] > 0
    assert mem.half_life([1, 2], [1.0, None], [10, 10], 10)["half_life"] is None


def last_word_model(vocab=12) -> NumpyRNN:
    """h_t = tanh(x_t W_xh) with a negligible W_hh: the output is the last word's. Word 2 is
    strongly positive, 3 strongly negative, the others near neutral."""
    embedding = np.zeros((vocab, 1))
    embedding[2], embedding[3] = 3.0, -3.0
    embedding[4:] = np.linspace(-0.01, 0.01, vocab - 4)[:, None]
    return NumpyRNN(embedding, np.eye(1), np.array([[1e-3]]), np.zeros(1), np.array([[4.0]]),
                    np.zeros(1))


def test_a_model_that_reads_only_the_last_word_has_a_half_life_under_one_word():
    rng = np.random.default_rng(3)
    reviews = [list(rng.integers(2, 12, size=int(n))) for n in rng.integers(10, 30, size=40)]
    report = mem.memory_curves(last_word_model(), pad(reviews, 30))
    g, loo = report["gradient"], report["leave_one_out"]
    assert g["half_life"] < 1 and loo["half_life"] < 1
    assert g["mean_norm"][1] < 1e-2 * g["mean_norm"][0]  # k = 2 next to nothing
    assert loo["mean_abs_change"][1] < 1e-2 * loo["mean_abs_change"][0]
    assert g["reviews"][0] == 40 and g["reviews"][29] == sum(len(r) >= 30 for r in reviews)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_curves_read_every_cell_through_its_own_backward_pass(cell):
    """A GRU and an LSTM (random weights of the names files.weights gives) are measured as the
    SimpleRNN is: the gradient curve is the mean norm of that cell's own gradients."""
    from sentiment_rnn.files.weights import shapes
    from sentiment_rnn.nn.numpy_cells import from_arrays

    rng = np.random.default_rng(4)
    model = from_arrays(cell, {name: 0.7 * rng.normal(size=shape)
                               for name, shape in shapes(12, 4, 5, cell).items()})
    report = mem.memory_curves(model, IDS)
    by_k = {}
    for review in REVIEWS:
        d_x, _ = model.gradients(np.array([review]))
        for k in range(1, len(review) + 1):
            by_k.setdefault(k, []).append(np.linalg.norm(d_x[0, -k]))
    assert report["gradient"]["mean_norm"][:7] == pytest.approx(
        [np.mean(by_k[k]) for k in range(1, 8)], rel=1e-12)
    p = model.predict_proba(IDS)
    removed = model.predict_proba(mem.without_word(IDS, 1))
    assert report["leave_one_out"]["mean_abs_change"][0] == pytest.approx(
        np.mean(np.abs(p - removed)), rel=1e-12)
