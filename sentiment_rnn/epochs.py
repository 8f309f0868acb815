"""The pieces of one Keras epoch that make training exact and interruptible.

    ids (batches of similar length) -> model.fit for one epoch -> back to the run folder

`batches`: a tf.data input of (batch, time) ids, each batch trimmed to its longest review.
`StopOnSignal`: Ctrl-C finishes the current step, then stops (only in the main thread).
`average_weights`: the weight average swapped in before validation. `progress_bar`: Keras' own
progress bar, told the run's epoch total. `seed_dropout`: dropout masks from (seed, epoch) alone.
`deterministic`: TensorFlow op determinism on for a call, and back off afterwards if it was off.
"""

from __future__ import annotations

import functools
import signal
import threading

import numpy as np

from . import quiet
from .batching import trim


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
        tf = quiet.tensorflow()
        outer = self

        class Stop(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if outer.stopped:
                    model.stop_training = True

        return Stop()


def batches(x: np.ndarray, y: np.ndarray, batches: list[np.ndarray]):
    """A tf.data input serving the given row batches, each trimmed to its longest review; the
    targets as float32 (0/1 labels, or a teacher's probabilities).

    The signature says (batch, time) with both unknown, so batches of any length are fine."""
    tf = quiet.tensorflow()
    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.float32))
    dataset = tf.data.Dataset.from_generator(
        lambda: ((trim(x[rows]).astype(np.int32), y[rows].astype(np.float32))
                 for rows in batches),
        output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))


def average_weights(model, steps: int):
    """With the optimizer's weight average on (Keras' use_ema): after the epoch's last step, the
    model takes the averaged weights, so validation, the checkpoint and the saved model all use
    them (Keras itself would swap them in only after validation, at the end of fit)."""
    tf = quiet.tensorflow()

    class Average(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == steps - 1 and model.optimizer.use_ema:
                model.optimizer.finalize_variable_values(model.trainable_variables)

    return Average()


def progress_bar(total_epochs: int, verbose: int):
    """Keras' own progress bar, told the run's epoch total (fit is called once per epoch)."""
    tf = quiet.tensorflow()

    class Progbar(tf.keras.callbacks.ProgbarLogger):
        def set_params(self, params):
            super().set_params({**params, "epochs": total_epochs, "verbose": verbose})

    return Progbar()


def deterministic(func):
    """Run with TensorFlow's op determinism on (same seed, same run on one machine), and
    leave the process as it was found: the setting is turned off again if it was off."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        tf = quiet.tensorflow()
        try:  # tf.config.experimental has the switch on, not the query or the switch off
            from tensorflow.python.framework import config as switches
        except ImportError:
            switches = None
        was_on = switches is None or switches.is_op_determinism_enabled()
        tf.config.experimental.enable_op_determinism()
        try:
            return func(*args, **kwargs)
        finally:
            if not was_on:
                switches.disable_op_determinism()

    return wrapper


def seed_dropout(model, seed: int, epoch: int) -> None:
    """Dropout masks from (seed, epoch) alone: the RNN cell's seed generator is set at the start
    of every epoch, so a resumed run draws the same masks as an uninterrupted one."""
    generator = model.get_layer("rnn").cell.seed_generator
    value = np.random.default_rng([seed, epoch]).integers(0, 2**31 - 1)
    generator.state.assign(np.array([value, 0], dtype=generator.state.dtype))
