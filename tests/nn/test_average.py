"""The weight average (--ema-momentum): its warm-up, the swap in for validation and saving, the
trained weights kept for training; the saved model.keras in plain Keras; the one threshold rule."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.nn.callbacks import WeightAverage, targets
from sentiment_rnn.nn.keras_model import (agreement, averaging_adam, build_model, compile_model,
                                 custom_objects, weight_arrays)
from sentiment_rnn.nn.numpy_rnn import NAMES
from sentiment_rnn.nn.verdict import THRESHOLD, is_positive, label

from conftest import TINY_TRAIN_ARGS, start_and_interrupt


def _values(variables):
    return [np.array(v.numpy()) for v in variables]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


# --- the warm-up ------------------------------------------------------------------------------

@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_the_average_follows_tensorflows_warm_up(momentum):
    import keras

    var = keras.Variable(np.array([1.0, -2.0, 0.5], np.float32))
    start = var.numpy().copy()
    opt = averaging_adam(learning_rate=0.1, use_ema=True, ema_momentum=momentum)
    rng = np.random.default_rng(0)
    expected, seen = start.astype(np.float64), []
    for n in range(14):  # momentum 0.5 is reached at step 8, 0.9 only at step 80
        opt.apply([rng.normal(size=3).astype(np.float32)], [var])
        decay = min(momentum, (1 + n) / (10 + n))
        expected = decay * expected + (1 - decay) * var.numpy()
        seen.append(var.numpy().copy())
        np.testing.assert_allclose(opt.averages()[0].numpy(), expected, rtol=1e-5, atol=1e-6)
        if n == 0:
            first_average = opt.averages()[0].numpy().copy()
    # after the first step the starting weights still weigh 0.1 (Keras' own: nothing)
    np.testing.assert_allclose(first_average, 0.1 * start + 0.9 * seen[0], rtol=1e-6)
    assert not np.allclose(first_average, seen[0], rtol=1e-3)  # not the weights alone


def test_momentum_0_keeps_no_average():
    opt = averaging_adam(learning_rate=0.1)
    assert opt.averages() == []


# --- the swap ---------------------------------------------------------------------------------

def _tiny(ema: float):
    config = TrainConfig(vocab_size=20, embed_dim=4, units=3, max_len=8, teacher="none",
                         ema_momentum=ema, learning_rate=0.05, seed=5)
    rng = np.random.default_rng(1)
    x = rng.integers(2, 20, size=(48, 8)).astype(np.int32)
    y = targets((x[:, 0] < 11).astype(np.float32))
    model = build_model(config)
    compile_model(model, config)
    return model, x, y


class _EpochStart:
    """Records the weights the first step of a fit starts from."""

    def __new__(cls, model):
        import keras

        class Recorder(keras.callbacks.Callback):
            start = None

            def on_train_batch_begin(self, batch, logs=None):
                if batch == 0:
                    Recorder.start = _values(model.trainable_variables)

        return Recorder()


def test_validation_reads_the_average_and_training_continues_from_its_own_weights():
    model, x, y = _tiny(0.9)
    average, start = WeightAverage(model), _EpochStart(model)
    fit = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0,
                    validation_data=(x[:16], y[:16]), callbacks=[average.callback(), start])
    averaged = _values(model.optimizer.averages())
    assert _same(_values(model.trainable_variables), averaged)  # swapped in for validation
    assert fit.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[:16], y[:16], verbose=0, return_dict=True)["loss"], rel=1e-6)
    trained = [v.copy() for v in average.trained]
    assert not _same(trained, averaged)
    average.swap_back()
    assert _same(_values(model.trainable_variables), trained)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[start])
    assert _same(start.start, trained)  # the second epoch starts from the trained weights


def test_with_momentum_0_nothing_is_swapped():
    model, x, y = _tiny(0.0)
    average = WeightAverage(model)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x[:16], y[:16]),
              callbacks=[average.callback()])
    assert not average.on and average.trained is None


# --- a whole run ------------------------------------------------------------------------------

def _args(*extra):  # with XLA, the default (TINY_TRAIN_ARGS turn it off)
    return [*TINY_TRAIN_ARGS, "--jit", "--epochs", "2", "--patience", "2", *extra]


def _train(data_dir, cwd, run, *extra):
    """A training in this process (the CLI's `train`), with `cwd` as the current folder."""
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["train", *_args(*extra), "--run-dir", str(run),
                                         "--data-dir", str(data_dir)])
    finally:
        os.chdir(old)


def _checkpoint(run):
    from sentiment_rnn.training.resume import load_checkpoint

    state = json.loads((run / "state.json").read_text())
    return state, load_checkpoint(run / state["checkpoint"])


def _saved(run):
    with np.load(run / "weights.npz", allow_pickle=False) as npz:
        return [npz[name] for name in NAMES]


@pytest.mark.parametrize("momentum", ["0.9", "0"])
def test_the_saved_model_is_the_average_and_the_checkpoint_keeps_both(tiny_data_dir, tmp_path,
                                                                      momentum):
    run = tmp_path / "run"
    done = _train(tiny_data_dir, tmp_path, run, "--ema-momentum", momentum)
    assert done.exit_code == 0, done.output
    state, model = _checkpoint(run)
    assert state["best_epoch"] == state["epoch"] == 2  # the checkpoint is the best epoch's
    trained = [weight_arrays(model)[name] for name in NAMES]
    averages = model.optimizer.averages()
    if momentum == "0":
        assert averages == [] and _same(_saved(run), trained)  # off: the saved are the trained
        return
    average_of = dict(zip((v.path for v in model.trainable_variables), _values(averages)))
    model_average = [average_of[v.path] for v in (
        model.get_layer("embedding").embeddings, model.get_layer("rnn").cell.kernel,
        model.get_layer("rnn").cell.recurrent_kernel, model.get_layer("rnn").cell.bias,
        model.get_layer("output").kernel, model.get_layer("output").bias)]
    assert _same(_saved(run), model_average)  # what was validated and saved
    assert not _same(trained, model_average)  # the checkpoint continues from its own weights


def test_kill_and_resume_with_the_average_reaches_the_same_weights(tiny_data_dir, tmp_path):
    """Killed (SIGKILL, its own process) after epoch 2 of 6, then resumed: the weights and
    history of the same run trained without a stop."""
    extra = ["--ema-momentum", "0.9", "--epochs", "6", "--patience", "6"]
    full = tmp_path / "full"
    done = _train(tiny_data_dir, tmp_path, full, *extra)
    assert done.exit_code == 0, done.output
    run = tmp_path / "run"
    code, _ = start_and_interrupt([sys.executable, "-m", "sentiment_rnn", "train",
                                   *_args(*extra), "--run-dir", str(run), "--data-dir",
                                   str(tiny_data_dir)], run, signal.SIGKILL, tmp_path,
                                  after_epoch=2)
    assert code == -signal.SIGKILL
    assert not json.loads((run / "state.json").read_text())["completed"]
    done = _resume(tiny_data_dir, tmp_path, run)
    assert done.exit_code == 0, done.output
    assert _same(_saved(run), _saved(full))
    history = [json.loads((r / "history.json").read_text()) for r in (run, full)]
    assert len(history[1]) == 6
    def logged(rows):  # every logged number but the wall times
        return [{k: v for k, v in row.items() if k not in ("seconds", "val_seconds")}
                for row in rows]

    assert logged(history[0]) == logged(history[1])


def _resume(data_dir, cwd, run):
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["train", "--resume", str(run), "--data-dir",
                                         str(data_dir)])
    finally:
        os.chdir(old)


def test_a_checkpoint_of_plain_adam_carries_its_state_over(tmp_path):
    """A checkpoint written before AveragingAdam (Keras' Adam with use_ema, the metric
    `agreement`) resumes with its steps, moments and average."""
    import keras

    from sentiment_rnn.training.resume import load_checkpoint

    model, x, y = _tiny(0.9)
    old = keras.Sequential.from_config(model.get_config())
    old.compile(optimizer=keras.optimizers.Adam(use_ema=True, ema_momentum=0.9),
                loss="binary_crossentropy",
                metrics=[keras.metrics.MeanMetricWrapper(agreement, name="accuracy")])
    old.fit(x, y[:, 0], batch_size=8, epochs=1, verbose=0)
    old.save(tmp_path / "checkpoint-001.keras")
    loaded = load_checkpoint(tmp_path / "checkpoint-001.keras")
    compile_model(loaded, TrainConfig(vocab_size=20, embed_dim=4, units=3, ema_momentum=0.9),
                  optimizer=loaded.optimizer)
    assert type(loaded.optimizer).__name__ == "AveragingAdam"
    assert _same(_values(loaded.optimizer.variables), _values(old.optimizer.variables))
    assert int(loaded.optimizer.iterations.numpy()) == 6


# --- model.keras in plain Keras ---------------------------------------------------------------

PLAIN_KERAS = """
import json, sys
import numpy as np
import keras
out = {}
for model_path, ids_path in zip(sys.argv[1::2], sys.argv[2::2]):
    model = keras.saving.load_model(model_path)
    ids = np.load(ids_path, allow_pickle=False)
    out[model_path] = model.predict(ids, verbose=0).reshape(-1).tolist()
assert not [m for m in sys.modules if m.startswith("sentiment_rnn")], "imported sentiment_rnn"
print(json.dumps(out))
"""
TEXTS = ["a great and wonderful film", "boring, the worst plot", "the movie was fun"]
RUNS = ["trained_run", "taught_run"]


@pytest.fixture(scope="module")
def in_plain_keras(request, tmp_path_factory):
    """Each of RUNS' model.keras loaded and run in one process of plain Keras (no
    sentiment_rnn on its path, none imported) on TEXTS' ids: {fixture: (ids, predictions)}."""
    from sentiment_rnn.prediction.predictor import Predictor

    folder = tmp_path_factory.mktemp("plain-keras")
    args, ids = [], {}
    for fixture in RUNS:
        run = request.getfixturevalue(fixture)
        ids[fixture] = Predictor(run, backend="keras").ids_of_tokens(
            [t.split() for t in TEXTS]).astype(np.int32)
        np.save(folder / f"{fixture}.npy", ids[fixture])
        args += [str(run / "model.keras"), str(folder / f"{fixture}.npy")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", PLAIN_KERAS, *args], cwd=folder,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    plain = json.loads(done.stdout.strip().splitlines()[-1])
    return {fixture: (ids[fixture], plain[model]) for fixture, model in zip(RUNS, args[::2])}


@pytest.mark.parametrize("fixture", RUNS)
def test_model_keras_loads_in_plain_keras_with_the_same_predictions(fixture, request,
                                                                    in_plain_keras):
    from sentiment_rnn.prediction.predictor import Predictor

    run = request.getfixturevalue(fixture)
    ids, plain = in_plain_keras[fixture]
    assert len(plain) == len(TEXTS)
    np.testing.assert_allclose(plain, Predictor(run, backend="keras").predict_ids(ids),
                               rtol=1e-5, atol=1e-6)


def test_the_checkpoint_still_needs_our_objects_and_has_them():
    assert set(custom_objects()) == {"agreement", "soft_target_loss", "RowAgreement",
                                     "AveragingAdam"}


# --- one threshold rule -----------------------------------------------------------------------

def test_p_of_one_half_is_positive_everywhere():
    from sentiment_rnn.evaluation.metrics import metrics
    from sentiment_rnn.nn.keras_model import _classes

    assert THRESHOLD == 0.5 and is_positive(0.5) and not is_positive(np.nextafter(0.5, 0))
    assert label(0.5) == "positive" and label(0.4999999) == "negative"
    m = metrics(np.array([1, 0]), np.array([0.5, np.nextafter(0.5, 0)]))
    assert m["accuracy"] == 1.0 and m["confusion_matrix"] == [[1, 0], [0, 1]]
    # the training metric: label 1 at P = 0.5 is right; the teacher's 0.5 is positive too
    got = agreement(np.array([1.0, 0.0, 0.5, 0.5], np.float32),
                    np.array([[0.5], [0.5], [0.5], [0.49999997]], np.float32))
    np.testing.assert_array_equal(np.asarray(got), [1, 0, 1, 0])
    row_agreement = _classes()[0]
    y = targets(np.array([1.0, 0.0, 0.5, 0.5], np.float32), labelled=2)
    p = np.array([[0.5], [0.5], [0.5], [0.2]], np.float32)
    accuracy, teacher = row_agreement(teacher=False), row_agreement(teacher=True)
    accuracy.update_state(y, p)
    teacher.update_state(y, p)
    assert (accuracy.name, float(accuracy.result())) == ("accuracy", 0.5)
    assert (teacher.name, float(teacher.result())) == ("teacher_agreement", 0.5)


# --- the learning curves ----------------------------------------------------------------------

def test_learning_curves_draw_the_teachers_agreement_and_old_histories(tmp_path):
    from sentiment_rnn.evaluation.plots import plot_learning_curves

    old = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 0.5 / e, "val_loss": 1.2 / e,
            "val_accuracy": 0.9 - 0.5 / e, "seconds": 1.0} for e in range(1, 4)]  # 0.3's keys
    new = [{**row, "teacher_agreement": 0.8 - 0.3 / row["epoch"]} for row in old]
    assert plot_learning_curves(old, tmp_path / "old.png", 2) == tmp_path / "old.png"
    plot_learning_curves(new, tmp_path / "new.png", 2)
    assert (tmp_path / "old.png").read_bytes() != (tmp_path / "new.png").read_bytes()
