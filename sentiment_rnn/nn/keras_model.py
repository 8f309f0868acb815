"""ids -> probability in Keras: Embedding -> SimpleRNN (or GRU, LSTM) -> Dense(sigmoid), and its
weights by name.

`compile_model` gives the training setup: Adam with clipping (`AveragingAdam`, which also keeps
the weight average, with a warm-up), the loss on the targets' first column, and the training
metrics by what they measure: `accuracy` on the labelled rows and `teacher_agreement` on the
teacher's rows (`epochs.targets` gives each row its target and whether the teacher labelled it).
`inference_copy` is the model without any of that: what `model.keras` holds, loadable by plain
Keras.

`weight_arrays` is the one place weights leave Keras: training writes its output as `weights.npz`
and the NumPy forward pass (`numpy_rnn.py`) reads exactly those names and shapes.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from sentiment_rnn import _tf
from sentiment_rnn.nn.batching import lengths, sorted_batches, trim
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.files.weights import GATES
from sentiment_rnn.nn.verdict import is_positive


def build_model(config: TrainConfig):
    """The seed notebook's model; 34,113 parameters at the defaults (1000 words, 32, 32). With
    config.cell "gru" or "lstm" the recurrent layer is Keras' GRU (reset_after=True) or LSTM,
    everything else the same.

    Every random start is seeded from config.seed in the layer itself (initializers, the
    dropout seed generator), so building the model changes no process-wide random state."""
    tf = _tf.tensorflow()
    keras = tf.keras
    seed = int(np.random.default_rng([config.seed, 2]).integers(0, 2**31 - 1))
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32", name="ids"),  # (batch, time)
            # (batch, time, embed_dim); id 0 is padding and is masked, so the RNN skips it
            keras.layers.Embedding(
                config.vocab_size, config.embed_dim, mask_zero=True, name="embedding",
                embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed)),
            # h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h); returns h_T, (batch, units)
            _recurrent_layer(keras, config.cell)(
                config.units, dropout=config.dropout, recurrent_dropout=config.recurrent_dropout,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 2),
                seed=seed + 3, name="rnn"),
            # P(positive) = sigmoid(h_T W_hy + b_y), (batch, 1)
            keras.layers.Dense(1, activation="sigmoid", name="output",
                               kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 4)),
        ],
        name="sentiment_rnn",
    )
    return model


def _recurrent_layer(keras, cell: str):
    """The Keras layer class of a cell; the GRU in the form numpy_gru.py computes."""
    if cell == "gru":
        return functools.partial(keras.layers.GRU, reset_after=True)
    return {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM}[cell]


def soft_target_loss(y_true, y_pred):
    """Binary cross-entropy against column 0 of (batch, 2) targets: the 0/1 label or the
    teacher's P(positive); column 1 (from the teacher or not) is for the metrics only.
    Plain (batch,) targets are read as they are."""
    keras = _tf.tensorflow().keras
    if len(y_true.shape) == 2 and y_true.shape[-1] == 2:
        y_true = y_true[:, :1]
    return keras.losses.binary_crossentropy(y_true, y_pred)


def agreement(y_true, y_pred):
    """Whether model and target are on the same side of the threshold (P >= 0.5 is positive),
    per row. Checkpoints written before `RowAgreement` name it, so loading them needs it."""
    ops = _tf.tensorflow().keras.ops
    y_true = ops.reshape(ops.cast(y_true, "float32"), (-1,))
    y_pred = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
    return ops.cast(ops.equal(is_positive(y_true), is_positive(y_pred)), "float32")


@functools.cache
def _classes():
    """The Keras classes of training, defined on first use (TensorFlow is imported lazily).
    Long because it holds two class bodies whose bases exist only once TensorFlow is loaded."""
    keras = _tf.tensorflow().keras
    ops = keras.ops

    class RowAgreement(keras.metrics.Metric):
        """Share of rows where model and target agree (`agreement`), over the labelled rows
        (`teacher=False`: plain accuracy) or over the teacher's rows (`teacher=True`: agreement
        with the teacher). Targets are (batch, 2) as `epochs.targets` makes them, or (batch,)
        labels."""

        def __init__(self, teacher: bool = False, name: str | None = None, dtype=None):
            super().__init__(name=name or ("teacher_agreement" if teacher else "accuracy"),
                             dtype=dtype)
            self.teacher = bool(teacher)
            self.right = self.add_variable((), initializer="zeros", name="right")
            self.rows = self.add_variable((), initializer="zeros", name="rows")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = ops.cast(y_true, "float32")
            if len(y_true.shape) == 2 and y_true.shape[-1] == 2:
                target, from_teacher = y_true[:, 0], y_true[:, 1] > 0.5
            else:
                target = ops.reshape(y_true, (-1,))
                from_teacher = ops.zeros_like(target, dtype="bool")
            rows = from_teacher if self.teacher else ops.logical_not(from_teacher)
            rows = ops.cast(rows, "float32")
            self.right.assign_add(ops.sum(agreement(target, y_pred) * rows))
            self.rows.assign_add(ops.sum(rows))

        def result(self):
            return ops.divide_no_nan(self.right, self.rows)

        def get_config(self):
            return {**super().get_config(), "teacher": self.teacher}

    class AveragingAdam(keras.optimizers.Adam):
        """Adam that also keeps an exponential moving average of the weights (with use_ema):
        after update n (0-based) average = d * average + (1 - d) * weights, with
        d = min(ema_momentum, (1 + n) / (10 + n)), starting from the starting weights:
        TensorFlow's ExponentialMovingAverage with num_updates, so the starting weights fade
        within the first steps. The average lives in the optimizer's variables (saved in every
        checkpoint) and never replaces the weights being trained: `epochs.WeightAverage` swaps
        it in for validation and saving."""

        def build(self, variables):
            """As Adam's, and the average starts at the starting weights (Keras' at zeros)."""
            super().build(variables)
            for var, average in zip(variables, self.averages()):
                average.assign(var)

        def _update_model_variables_moving_average(self, trainable_variables):
            if not self.use_ema:
                return
            n = ops.cast(self.iterations, "float32")
            decay = ops.minimum(self.ema_momentum, (1.0 + n) / (10.0 + n))
            for var, average in zip(trainable_variables, self._model_variables_moving_average):
                if average is not None:
                    d = ops.cast(decay, var.dtype)
                    average.assign(ops.add(ops.multiply(d, average),
                                           ops.multiply(ops.subtract(1.0, d), var)))

        def finalize_variable_values(self, var_list):
            """Keras calls this at the end of every fit to overwrite the weights with the
            average; here the trained weights are kept (the average is swapped, not copied)."""

        def averages(self) -> list:
            """The averaged weights, one per trainable variable; [] with the average off."""
            return list(self._model_variables_moving_average) if self.use_ema else []

    return RowAgreement, AveragingAdam


def averaging_adam(**kwargs):
    """An `AveragingAdam` optimizer (keyword arguments as keras.optimizers.Adam)."""
    return _classes()[1](**kwargs)


def custom_objects() -> dict:
    """What loading a training checkpoint (compiled, safe_mode on) needs besides Keras."""
    row_agreement, averaging = _classes()
    return {"agreement": agreement, "soft_target_loss": soft_target_loss,
            "RowAgreement": row_agreement, "AveragingAdam": averaging}


def compile_model(model, config: TrainConfig, teacher: bool = False, optimizer=None) -> None:
    """Adam with clipping, and with config.ema > 0 the weight average (`AveragingAdam`);
    the metrics `accuracy` (labelled rows) and, with a teacher's rows, `teacher_agreement`.
    `optimizer`: the one of a loaded checkpoint, whose state continues (a plain Adam of an
    older checkpoint is carried over into an AveragingAdam, variable by variable).

    With config.jit_compile each training and validation step is compiled with XLA. Keras
    turns XLA off by itself whenever TensorFlow's op determinism is on (`model_supports_jit`),
    and `train` turns it on for the steps that are not compiled; so the setting is made past
    that check. XLA's code on a CPU is the same from run to run, which is what keeps the same
    seed giving the same run (tests/training/test_jit.py)."""
    row_agreement, averaging = _classes()
    if optimizer is None:
        ema = config.ema
        optimizer = averaging(learning_rate=config.learning_rate, clipnorm=config.clipnorm,
                              use_ema=ema > 0, ema_momentum=ema if ema > 0 else 0.99)
    elif not isinstance(optimizer, averaging):
        optimizer = _carried_over(optimizer, model, averaging)
    metrics = [row_agreement(teacher=False)] + ([row_agreement(teacher=True)] if teacher else [])
    model.compile(optimizer=optimizer, loss=soft_target_loss, metrics=metrics, jit_compile=False)
    model._jit_compile = bool(config.jit_compile)  # what the jit_compile setter keeps


def _carried_over(old, model, averaging):
    """An AveragingAdam with the settings and the state (steps, moments, average) of `old`."""
    new = averaging.from_config(old.get_config())
    new.build(model.trainable_variables)
    if len(new.variables) != len(old.variables):
        raise ValueError(f"the checkpoint's optimizer has {len(old.variables)} variables, "
                         f"expected {len(new.variables)}")
    for target, source in zip(new.variables, old.variables):
        target.assign(source)
    return new


def inference_copy(model):
    """The model with the same weights and nothing of training (no optimizer, loss or
    metrics): what `model.keras` saves, so that plain `keras.saving.load_model` loads it."""
    copy = type(model).from_config(model.get_config())  # clone_model would compile it too
    copy.set_weights(model.get_weights())
    return copy


def weight_arrays(model) -> dict[str, np.ndarray]:
    """The trained weights under the names of the RNN equations, read by Keras layer name.
    A GRU's or an LSTM's kernels hold their gates side by side (files.weights.GATES gives
    Keras' order); they are cut into one matrix per gate; a GRU's bias is (2, 3 units):
    the input biases, then the recurrent ones."""
    layer = model.get_layer("rnn")
    rnn = layer.cell
    dense = model.get_layer("output")
    arrays = {"embedding": model.get_layer("embedding").embeddings.numpy()}  # (vocab, embed_dim)
    kernel, recurrent, bias = rnn.kernel.numpy(), rnn.recurrent_kernel.numpy(), rnn.bias.numpy()
    if isinstance(layer, _tf.tensorflow().keras.layers.SimpleRNN):
        arrays.update(W_xh=kernel, W_hh=recurrent, b_h=bias)  # (e, u), (u, u), (u,)
    else:
        gates = GATES["gru" if bias.ndim == 2 else "lstm"]
        u = recurrent.shape[0]
        for k, gate in enumerate(gates):
            cut = slice(k * u, (k + 1) * u)
            arrays[f"W_x{gate}"], arrays[f"W_h{gate}"] = kernel[:, cut], recurrent[:, cut]
            if bias.ndim == 2:  # GRU, reset_after=True
                arrays[f"b_x{gate}"], arrays[f"b_h{gate}"] = bias[0, cut], bias[1, cut]
            else:
                arrays[f"b_{gate}"] = bias[cut]
    arrays.update(W_hy=dense.kernel.numpy(), b_y=dense.bias.numpy())  # (units, 1), (1,)
    return arrays


def _compiled(model):
    """The model's forward pass as one tf.function over (batch, time) int32 ids, traced once:
    an eager call would step the RNN's while-loop from Python, several times slower."""
    call = getattr(model, "_sentiment_rnn_call", None)
    if call is None:
        tf = _tf.tensorflow()
        call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                           input_signature=[tf.TensorSpec((None, None), tf.int32)])
        model._sentiment_rnn_call = call
    return call


def predict_proba(model, ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """P(positive) for a (batch, time) id array, as a (batch,) float array."""
    call = _compiled(model)
    out = np.empty(len(ids))
    for rows in sorted_batches(lengths(ids), batch_size):  # padding is masked anyway
        out[rows] = call(np.ascontiguousarray(trim(ids[rows]), dtype=np.int32)).numpy().reshape(-1)
    return out


class UnloadableModel(Exception):
    """A .keras file Keras cannot load: `kind` is the exception's type, `why` its first line
    (without the temporary folder's path), `unsafe` whether safe_mode refused Python code."""

    def __init__(self, kind: str, why: str, unsafe: bool):
        super().__init__(why)
        self.kind, self.why, self.unsafe = kind, why, unsafe


def load_keras_bytes(data: bytes, name: str = "model.keras", **options):
    """A .keras file's checked bytes -> the Keras model, loaded with safe_mode on from a private
    temporary copy, so the bytes checked are the bytes loaded. `options` go to load_model."""
    tf = _tf.tensorflow()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / name
        copy.write_bytes(data)
        try:
            return tf.keras.models.load_model(copy, safe_mode=True, **options)
        except Exception as exc:  # truncated zip, wrong layers, unsafe lambda, ...
            why = str(exc).splitlines()[0][:200] if str(exc) else ""
            raise UnloadableModel(type(exc).__name__, why.replace(tmp, ""),
                                  "safe_mode" in str(exc)) from None
