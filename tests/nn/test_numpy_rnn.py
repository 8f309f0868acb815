"""numpy_rnn.py against Keras: the same trained weights must give the same probabilities."""

import numpy as np
import pytest

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.nn.keras_model import weight_arrays
from sentiment_rnn.nn.keras_tape import logit_gradients
from sentiment_rnn.nn.numpy_rnn import NumpyRNN
from sentiment_rnn.prediction.keras_backend import load_keras_model
from sentiment_rnn.prediction.predictor import Predictor
from sentiment_rnn.files.run_folder import load_run


@pytest.fixture(scope="module")
def both(trained_run):
    run = load_run(trained_run)
    keras_model = load_keras_model(run)
    cfg = run.config
    numpy_model = NumpyRNN.load(run.weights_file, cfg.vocab_size, cfg.embed_dim, cfg.units)
    return run, keras_model, numpy_model


def test_weights_npz_holds_exactly_the_keras_weights(both):
    run, keras_model, numpy_model = both
    for name, array in weight_arrays(keras_model).items():
        np.testing.assert_array_equal(getattr(numpy_model, name), array.astype(np.float64))


@pytest.mark.parametrize("ids", [
    [[0, 0, 0, 5, 9, 3], [0, 0, 0, 0, 0, 7], [4, 8, 2, 2, 6, 3]],  # padded batch
    [[3, 7, 11, 2, 5, 19, 4, 8, 12, 6, 2, 9]],  # unpadded, max_len long
    [[9]],  # one word
], ids=["padded", "unpadded", "one-word"])
def test_numpy_matches_keras_within_1e_5(both, ids):
    run, keras_model, numpy_model = both
    ids = np.array(ids, dtype=np.int32)
    expected = keras_model.predict(ids, verbose=0).reshape(-1)
    got = numpy_model.predict_proba(ids)
    assert np.max(np.abs(got - expected)) < 1e-5
    # the results are not all the same value: the check compares real outputs
    assert len(ids) == 1 or np.ptp(got) > 1e-3


def test_padding_in_front_does_not_change_the_result(both):
    _, _, numpy_model = both
    short = numpy_model.predict_proba(np.array([[5, 9, 3]]))
    padded = numpy_model.predict_proba(np.array([[0, 0, 0, 0, 5, 9, 3]]))
    assert padded[0] == short[0]


def test_vectorized_states_equal_the_seed_notebook_loop(both):
    _, _, m = both
    ids = [3, 7, 11, 2, 5]
    h = np.zeros(m.W_hh.shape[0])
    loop_states = []
    for i in ids:  # the seed notebook's loop, one step at a time
        h = np.tanh(m.embedding[i] @ m.W_xh + h @ m.W_hh + m.b_h)
        loop_states.append(h)
    states = m.hidden_states(np.array([ids]))[0]
    np.testing.assert_allclose(states, np.array(loop_states), rtol=0, atol=1e-12)
    y = 1 / (1 + np.exp(-(h @ m.W_hy + m.b_y)))
    assert m.predict_proba(np.array([ids]))[0] == pytest.approx(y[0], abs=1e-12)


def test_both_backends_of_predictor_agree_on_text(trained_run):
    texts = ["A wonderful, superb film", "boring and awful", "the plot"]
    p_numpy = Predictor(trained_run, "numpy").predict(texts)
    p_keras = Predictor(trained_run, "keras").predict(texts)
    assert np.max(np.abs(p_numpy - p_keras)) < 1e-5


def test_shapes_are_checked_against_the_configuration(run_copy):
    run = load_run(run_copy)
    cfg = run.config
    with pytest.raises(RunFolderError, match=r"weight embedding has shape \(28, 8\), expected "
                                             r"\(29, 8\)"):
        NumpyRNN.load(run.weights_file, cfg.vocab_size + 1, cfg.embed_dim, cfg.units)


@pytest.mark.parametrize("ids", [
    [[0, 0, 0, 5, 9, 3], [0, 0, 0, 0, 0, 7], [4, 8, 2, 2, 6, 3]],  # padded batch
    [[3, 7, 11, 2, 5, 19, 4, 8, 12, 6, 2, 9]],  # unpadded, max_len long
], ids=["padded", "unpadded"])
def test_the_backward_pass_matches_gradient_tape(both, ids):
    _, keras_model, numpy_model = both
    ids = np.array(ids, dtype=np.int32)
    expected = logit_gradients(keras_model, ids)  # GradientTape, in Keras' float32
    got, _ = numpy_model.gradients(ids)
    relative = np.max(np.abs(got - expected)) / np.max(np.abs(expected))
    assert relative <= 1e-5
    assert np.all(got[ids == 0] == 0)  # padding is read as nothing
    assert np.all(np.abs(got[ids != 0]).sum(axis=-1) > 0)  # every word read has a gradient


def test_the_backward_pass_agrees_with_finite_differences(both):
    """d logit / d h_t checked without Keras: nudge h_t by hand and run the rest of the loop."""
    _, _, m = both
    ids = np.array([[4, 8, 0, 2, 6, 3]], dtype=np.int32)
    _, d_h = m.gradients(ids)
    states = m.hidden_states(ids)[0]
    eps, t, unit = 1e-6, 1, 3

    def logit_from(h):  # the forward loop from step t + 1, starting at h_t = h
        for s in range(t + 1, ids.shape[1]):
            if ids[0, s]:
                h = np.tanh(m.embedding[ids[0, s]] @ m.W_xh + h @ m.W_hh + m.b_h)
        return float(h @ m.W_hy[:, 0] + m.b_y[0])

    nudged = states[t].copy()
    nudged[unit] += eps
    numeric = (logit_from(nudged) - logit_from(states[t])) / eps
    assert abs(numeric - d_h[0, t, unit]) <= 1e-4 * max(1.0, abs(numeric))
    assert np.isclose(m.logit(ids)[0], logit_from(states[t]))
