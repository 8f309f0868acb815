"""The GRU and LSTM NumPy passes (numpy_gru.py, numpy_lstm.py) against Keras and by hand."""

import numpy as np
import pytest

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.files.weights import names, shapes
from sentiment_rnn.nn.keras_model import build_model, predict_proba, weight_arrays
from sentiment_rnn.nn.keras_tape import float64_twin, logit_gradients
from sentiment_rnn.nn.numpy_cells import from_arrays

CELLS = ["simple", "gru", "lstm"]
IDS = np.array([[0, 0, 0, 5, 9, 3, 7, 2, 11, 4], [0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
                [4, 8, 2, 0, 0, 6, 3, 1, 13, 9], [3, 7, 11, 2, 5, 19, 4, 8, 12, 6]])


@pytest.fixture(scope="module", params=CELLS)
def both(request):
    """A small Keras model of each cell with large random weights (so every gate is far from
    its starting value) and its NumPy twin from weight_arrays."""
    cell = request.param
    config = TrainConfig(cell=cell, vocab_size=20, embed_dim=5, units=4, seed=3)
    model = build_model(config)
    rng = np.random.default_rng(11)
    model.set_weights([rng.normal(0, 0.7, w.shape).astype("float32")
                       for w in model.get_weights()])
    arrays = {k: v.astype(np.float64) for k, v in weight_arrays(model).items()}
    return config, model, from_arrays(cell, arrays)


def test_the_parameter_count_is_keras_own(both):
    config, model, _ = both
    assert config.parameters == model.count_params()


def test_weight_arrays_name_every_gate_with_the_configured_shapes(both):
    config, model, _ = both
    arrays = weight_arrays(model)
    assert tuple(arrays) == names(config.cell)
    assert {k: v.shape for k, v in arrays.items()} == shapes(20, 5, 4, config.cell)
    # together the arrays are every weight of the Keras model, each value once
    assert sum(v.size for v in arrays.values()) == model.count_params()
    assert np.isclose(sum(float(np.sum(v)) for v in arrays.values()),
                      sum(float(np.sum(w)) for w in model.get_weights()), atol=1e-4)


def test_the_forward_pass_matches_keras(both):
    _, model, numpy_model = both
    expected = predict_proba(model, IDS)
    got = numpy_model.predict_proba(IDS)
    assert np.max(np.abs(got - expected)) <= 1e-5
    assert np.ptp(got) > 0.05  # real outputs, not one value


def test_the_backward_pass_matches_gradient_tape_in_float64(both):
    _, model, numpy_model = both
    expected = logit_gradients(float64_twin(model), IDS)
    got, _ = numpy_model.gradients(IDS)
    assert np.max(np.abs(got - expected)) / np.max(np.abs(expected)) <= 1e-10
    assert np.all(got[IDS == 0] == 0) and np.all(np.abs(got[IDS != 0]).sum(axis=-1) > 0)


def test_the_backward_pass_agrees_with_finite_differences(both):
    """d logit / d x_t without Keras: nudge one input vector and run the forward pass again."""
    _, _, m = both
    ids = IDS[2:3]
    d_x, d_h = m.gradients(ids)
    x = m.embedding[ids].copy()
    eps = 1e-6
    for t, dim in [(0, 1), (5, 4), (9, 0)]:
        up, down = x.copy(), x.copy()
        up[0, t, dim] += eps
        down[0, t, dim] -= eps
        numeric = (m.logit(ids, up)[0] - m.logit(ids, down)[0]) / (2 * eps)
        assert d_x[0, t, dim] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    np.testing.assert_array_equal(d_h[0, -1], m.W_hy[:, 0])  # d logit / d h_T = W_hy


def test_a_padded_step_carries_every_state_over(both):
    _, _, m = both
    short, padded = np.array([[5, 9, 3]]), np.array([[5, 0, 0, 9, 3]])
    states = m.hidden_states(padded)[0]
    np.testing.assert_array_equal(states[-1], m.hidden_states(short)[0, -1])
    np.testing.assert_array_equal(states[1], states[0])
    if m.CELL == "lstm":
        cells = m.cell_states(padded)[0]
        np.testing.assert_array_equal(cells[2], cells[0])
        assert not np.array_equal(cells[3], cells[2])


def test_the_gru_resets_after_the_recurrent_matrix():
    """Keras' reset_after=True: n_t = tanh(x W_xn + b_xn + r * (h W_hn + b_hn)). Written out
    for two steps, by hand, on the NumPy weights."""
    config = TrainConfig(cell="gru", vocab_size=20, embed_dim=5, units=4)
    model = build_model(config)
    rng = np.random.default_rng(5)
    model.set_weights([rng.normal(0, 0.7, w.shape).astype("float32")
                       for w in model.get_weights()])
    m = from_arrays("gru", {k: v.astype(np.float64) for k, v in weight_arrays(model).items()})
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = np.zeros(4)
    for i in (3, 8):
        x = m.embedding[i]
        z = sig(x @ m.W_xz + m.b_xz + h @ m.W_hz + m.b_hz)
        r = sig(x @ m.W_xr + m.b_xr + h @ m.W_hr + m.b_hr)
        n = np.tanh(x @ m.W_xn + m.b_xn + r * (h @ m.W_hn + m.b_hn))
        h = z * h + (1 - z) * n
    np.testing.assert_allclose(m.hidden_states(np.array([[3, 8]]))[0, -1], h, atol=1e-12)
    assert predict_proba(model, np.array([[3, 8]]))[0] == pytest.approx(
        float(sig(h @ m.W_hy + m.b_y)[0]), abs=1e-6)


def test_the_lstm_gates_are_in_keras_order():
    """Keras' kernel columns are i, f, c, o: a large forget bias (column block 2) must keep c_t
    and a closed output gate (block 4) must silence h_t."""
    config = TrainConfig(cell="lstm", vocab_size=20, embed_dim=5, units=4)
    model = build_model(config)
    weights = model.get_weights()
    bias = np.zeros(16, dtype="float32")
    bias[12:] = -30.0  # output gate shut: h_t = o_t tanh(c_t) ~ 0
    weights[3] = bias
    model.set_weights(weights)
    m = from_arrays("lstm", {k: v.astype(np.float64) for k, v in weight_arrays(model).items()})
    assert np.all(m.b_o == -30.0) and np.all(m.b_f == 0.0)
    assert np.max(np.abs(m.hidden_states(np.array([[3, 8, 2]])))) < 1e-10
    assert np.max(np.abs(m.cell_states(np.array([[3, 8, 2]])))) > 1e-3


@pytest.mark.parametrize("cell, keras_order", [("lstm", "ifgo"), ("gru", "zrn")])
def test_each_gate_is_cut_from_its_own_block_of_keras_kernels(cell, keras_order):
    """Keras' documented order (LSTM i, f, c, o; GRU z, r, h), written here, not read from the
    code: block j of the kernel, recurrent kernel and bias (a GRU's two bias rows: input, then
    recurrent) must land in the arrays of gate j. Parity alone cannot see a consistent mislabel
    (the input gate saved as W_xf and computed as the forget gate)."""
    model = build_model(TrainConfig(cell=cell, vocab_size=20, embed_dim=5, units=4))
    weights = model.get_weights()
    for j in range(len(keras_order)):
        weights[1][:, 4 * j:4 * j + 4] = j + 1
        weights[2][:, 4 * j:4 * j + 4] = 10 * (j + 1)
        weights[3][..., 4 * j:4 * j + 4] = 100 * (j + 1)
    if cell == "gru":
        weights[3][1] *= -1  # the recurrent bias row
    model.set_weights(weights)
    arrays = weight_arrays(model)
    for j, gate in enumerate(keras_order):
        assert np.all(arrays[f"W_x{gate}"] == j + 1)
        assert np.all(arrays[f"W_h{gate}"] == 10 * (j + 1))
        if cell == "gru":
            assert np.all(arrays[f"b_x{gate}"] == 100 * (j + 1))
            assert np.all(arrays[f"b_h{gate}"] == -100 * (j + 1))
        else:
            assert np.all(arrays[f"b_{gate}"] == 100 * (j + 1))
