"""The pieces of one Keras epoch that make training exact and interruptible.

    ids (batches of similar length) -> model.fit for one epoch -> back to the run folder

`batches`: a tf.data input of (batch, time) ids, each batch trimmed to its longest review, with
`targets` (the target, and whether the teacher gave it). `StopOnSignal`: Ctrl-C finishes the
current step, then stops (only in the main thread). `WeightAverage`: the weight average swapped
in for validation and saving, and the trained weights swapped back. `drop_logs`: keeps a metric
out of the logs. `progress_bar`: Keras' own progress bar, told the run's epoch total.
`validation_timer`: the validation pass's seconds. `seed_dropout`: dropout masks from (seed,
epoch) alone. `deterministic`: TensorFlow op determinism on while any wrapped call runs
(counted under a lock, so threads share it), and back off after the last one if it was off.
"""

from __future__ import annotations

import functools
import signal
import threading
import time

import numpy as np

from sentiment_rnn import _tf
from sentiment_rnn.nn.batching import trim


class StopOnSignal:
    """Ctrl-C: finish the current step, then stop; the unfinished epoch is not kept."""

    def __init__(self):
        self.stopped = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # a notebook's worker: none
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)

    def _handle(self, signum, frame):
        if self.stopped:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.stopped = True

    def callback(self, model):
        tf = _tf.tensorflow()
        outer = self

        class Stop(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if outer.stopped:
                    model.stop_training = True

        return Stop()


def targets(y: np.ndarray, labelled: int | None = None) -> np.ndarray:
    """(rows, 2) float32 training targets: the target (a 0/1 label, or the teacher's
    P(positive)) and 1.0 where the teacher gave it; the first `labelled` rows (all when None)
    carry labels. The loss reads column 0 only, the metrics both (`model.RowAgreement`)."""
    out = np.zeros((len(y), 2), dtype=np.float32)
    out[:, 0] = y
    out[len(y) if labelled is None else labelled:, 1] = 1.0
    return out


def batches(x: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
            widths: tuple[int, ...] | None = None):
    """A tf.data input serving the given row batches, each trimmed to its longest review (or
    to the smallest of `widths` that holds it, `batching.trim`), with their rows of the
    (rows, 2) `targets`.

    The signature says (batch, time) with both unknown, so batches of any length are fine."""
    tf = _tf.tensorflow()
    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, 2), tf.float32))
    dataset = tf.data.Dataset.from_generator(
        lambda: ((trim(x[rows], widths).astype(np.int32), y[rows].astype(np.float32))
                 for rows in batches),
        output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))


class WeightAverage:
    """The optimizer's weight average (`model.AveragingAdam`) in and out of the model: in when
    validation begins (so validation and the saved best model read it), back out with
    `swap_back` before the checkpoint, so training continues from its own weights. Nothing
    happens when the average is off (--ema-momentum 0)."""

    def __init__(self, model):
        self.model = model
        self.trained = None  # the trained weights while the average is in

    @property
    def on(self) -> bool:
        averages = getattr(self.model.optimizer, "averages", None)
        return bool(averages and averages())

    def swap_in(self) -> None:
        if not self.on or self.trained is not None:
            return
        variables = self.model.trainable_variables
        self.trained = [v.numpy() for v in variables]
        for var, average in zip(variables, self.model.optimizer.averages()):
            var.assign(average)

    def swap_back(self) -> None:
        if self.trained is None:
            return
        for var, value in zip(self.model.trainable_variables, self.trained):
            var.assign(value)
        self.trained = None

    def callback(self):
        tf = _tf.tensorflow()
        outer = self

        class SwapIn(tf.keras.callbacks.Callback):
            def on_test_begin(self, logs=None):
                outer.swap_in()

        return SwapIn()


def drop_logs(*names: str):
    """A callback, to go first, that removes `names` from each epoch's logs (what the
    progress bar, TensorBoard and the history see): `val_teacher_agreement`, as the validation
    part has no teacher rows."""
    tf = _tf.tensorflow()

    class Drop(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for name in names:
                (logs or {}).pop(name, None)

    return Drop()


def validation_timer():
    """A callback whose `seconds` is the wall time of the epoch's validation pass (the rest of
    the epoch's time is training); None until one has ended."""
    tf = _tf.tensorflow()

    class Timer(tf.keras.callbacks.Callback):
        seconds = None

        def on_test_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_test_end(self, logs=None):
            self.seconds = round(time.perf_counter() - self.started, 2)

    return Timer()


def progress_bar(total_epochs: int, verbose: int):
    """Keras' own progress bar, told the run's epoch total (fit is called once per epoch)."""
    tf = _tf.tensorflow()

    class Progbar(tf.keras.callbacks.ProgbarLogger):
        def set_params(self, params):
            super().set_params({**params, "epochs": total_epochs, "verbose": verbose})

    return Progbar()


_determinism = {"lock": threading.Lock(), "users": 0, "turn_off": False}


def _switches():
    """TensorFlow's private module with the query and the switch off (tf.config.experimental
    has only the switch on); None if a TensorFlow version moves it."""
    try:
        from tensorflow.python.framework import config as switches
    except ImportError:
        return None
    return switches


def _determinism_enter() -> None:
    """One more user of op determinism: the first turns it on, noting whether it was off."""
    tf = _tf.tensorflow()
    with _determinism["lock"]:
        if _determinism["users"] == 0:
            switches = _switches()
            _determinism["turn_off"] = switches is not None and \
                not switches.is_op_determinism_enabled()
            tf.config.experimental.enable_op_determinism()
        _determinism["users"] += 1


def _determinism_leave() -> None:
    """One user fewer: the last turns it off again if the first found it off."""
    with _determinism["lock"]:
        _determinism["users"] -= 1
        if _determinism["users"] == 0 and _determinism["turn_off"]:
            _switches().disable_op_determinism()
            _determinism["turn_off"] = False


def deterministic(func):
    """Run with TensorFlow's op determinism on (same seed, same run on one machine).

    The setting is process-wide. What is guaranteed: while any call wrapped here runs, in any
    thread, it stays on (a lock and a count of the calls running); when the last of them ends it
    is turned off again if it was off when the first began, so the process is left as it was
    found. Code that turns it off itself while such a call runs is not stopped."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _determinism_enter()
        try:
            return func(*args, **kwargs)
        finally:
            _determinism_leave()

    return wrapper


def seed_dropout(model, seed: int, epoch: int) -> None:
    """Dropout masks from (seed, epoch) alone: the RNN cell's seed generator is set at the start
    of every epoch, so a resumed run draws the same masks as an uninterrupted one."""
    generator = model.get_layer("rnn").cell.seed_generator
    value = np.random.default_rng([seed, epoch]).integers(0, 2**31 - 1)
    generator.state.assign(np.array([value, 0], dtype=generator.state.dtype))
