"""sentiment-rnn: text -> tokens -> ids -> SimpleRNN -> P(positive), in Keras and in NumPy.

The Python API (`import sentiment_rnn as sr`): `sr.load(run_dir)` gives a Model with
`.predict`, `.classify`, `.trace` and `.overview` on the NumPy path (no TensorFlow import);
`sr.train(...)`, `sr.evaluate(...)` and `sr.seal(run_dir)` do what the command line's train,
evaluate and seal do.
"""

from sentiment_rnn._version import __version__

__all__ = ["Model", "Trace", "TrainedRun", "evaluate", "load", "seal", "train", "__version__"]


def __getattr__(name):  # imported on first use: `import sentiment_rnn` stays instant
    if name in ("Model", "Trace", "TrainedRun", "evaluate", "load", "seal", "train"):
        from sentiment_rnn import api

        return getattr(api, name)
    raise AttributeError(f"module 'sentiment_rnn' has no attribute {name!r}")
