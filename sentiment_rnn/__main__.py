"""`python -m sentiment_rnn` and the `sentiment-rnn` program: the command line.

The entry point imports the command line inside a guard, so Ctrl-C while Python is still loading
it ends with exit code 130 and no traceback.
"""

import sys


def entry() -> None:
    try:
        from sentiment_rnn.cli.commands import run
    except KeyboardInterrupt:
        sys.exit(130)
    run()


if __name__ == "__main__":
    entry()
