"""`python -m sentiment_rnn` runs the command line."""

from .cli import main

main(prog_name="sentiment-rnn")
