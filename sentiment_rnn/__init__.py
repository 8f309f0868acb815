"""sentiment-rnn: text -> tokens -> ids -> SimpleRNN -> P(positive), in Keras and in NumPy.

The Python API (`import sentiment_rnn as sr`): `sr.load(run_dir)` gives a Model with
`.predict`, `.classify`, `.trace` and `.overview` on the NumPy path (no TensorFlow import);
`sr.train(...)` and `sr.evaluate(...)` do what the command line's train and evaluate do.
"""

__version__ = "0.3.0"

__all__ = ["Model", "Trace", "TrainedRun", "evaluate", "load", "train", "__version__"]


def __getattr__(name):  # imported on first use: `import sentiment_rnn` stays instant
    if name in ("Model", "Trace", "TrainedRun", "evaluate", "load", "train"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sentiment_rnn' has no attribute {name!r}")
