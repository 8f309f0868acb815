"""Errors the library raises at every stage of text -> ids -> model -> probability.

Library code raises these plain exceptions; only `cli.py` turns them into Click errors, so a user
sees a one-line `Error: ...` and exit code 1, never a traceback.
"""


class SentimentRNNError(Exception):
    """Base class: anything the user can fix by changing their input."""


class DataNotFoundError(SentimentRNNError):
    """The IMDB dataset is neither prepared in the data folder nor downloadable."""


class RunFolderError(SentimentRNNError):
    """A run folder is missing, incomplete, corrupt or inconsistent."""


class ConfigError(SentimentRNNError):
    """A configuration value is out of range or of the wrong type."""


class InputTextError(SentimentRNNError):
    """A text to classify cannot be used (empty, not UTF-8, ...)."""


class DataFileError(SentimentRNNError):
    """A user's file of texts or labelled texts cannot be read: format, columns, a bad row."""


class WorkerError(SentimentRNNError):
    """A worker process stopped before its work was done (killed: out of memory, most often)."""
