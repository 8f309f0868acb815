"""`python -m sentiment_rnn` runs the command line."""

from .cli import run

run()
