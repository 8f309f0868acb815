"""Import TensorFlow and tensorflow-datasets without their C++ start-up noise.

TensorFlow's C++ runtime writes oneDNN, CUDA and absl messages straight to file descriptor 2
while it loads, before any Python logging setting applies. We point fd 2 at /dev/null for the
import only, then restore it, so real errors later still reach the user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow():
    """Return the `tensorflow` module, imported quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _stderr_silenced():
            import tensorflow  # noqa: F401
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


def tensorflow_datasets():
    """Return the `tensorflow_datasets` module, imported quietly."""
    tensorflow()
    if "tensorflow_datasets" not in sys.modules:
        with _stderr_silenced():
            import tensorflow_datasets  # noqa: F401
    import tensorflow_datasets as tfds

    # tfds logs through absl, e.g. "Variant folder ... has no dataset_info.json" before our own
    # clear error; its download progress bars are tqdm and are not affected
    logging.getLogger("absl").setLevel(logging.ERROR)
    return tfds
