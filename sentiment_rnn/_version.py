"""The package version, one place: pyproject.toml and `sentiment-rnn --version` read it."""

__version__ = "0.4.0"
