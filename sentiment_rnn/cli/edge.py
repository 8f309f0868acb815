"""The edge of the program: every error as one line `Error: ...`, never a traceback.

Library functions raise plain exceptions (`errors.py`); `GuardedGroup` turns them, every
OSError and anything unexpected into one line on standard error with exit code 1 (usage errors:
2), unless `--debug` or SENTIMENT_RNN_DEBUG=1 asks for the traceback. `run` is the program's
entry: it also turns a failing last flush of standard output (a full disk, a closed pipe) into
one line.
"""

from __future__ import annotations

import io
import math
import os
import sys

import click
import cloup

from sentiment_rnn.errors import SentimentRNNError
from sentiment_rnn.text.terminal import printable

DEBUG_ENV = "SENTIMENT_RNN_DEBUG"


def _debugging() -> bool:
    ctx = click.get_current_context(silent=True)
    flag = bool(ctx and ctx.find_root().params.get("debug"))
    return flag or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def one_line(exc: BaseException) -> str:
    """An error as one line: the reason, and the path where the OS names one."""
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        if exc.errno is not None and exc.strerror:
            return f"{where}{exc.strerror}"
        return f"{where}{exc}"
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def _writing_stdout(exc: OSError) -> bool:
    """Whether an OSError (which names no file) came from a write to standard output (a full
    disk, a device error): the stream written in the innermost Python frame of its traceback
    (click.echo's, or one's own) is standard output, as text or bytes, or file descriptor 1."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    outs = [s for s in (sys.stdout, sys.__stdout__) if s is not None]
    outs += [getattr(s, "buffer", None) for s in outs]
    for value in tb.tb_frame.f_locals.values():
        if any(value is out for out in outs if out is not None):
            return True
        try:
            if isinstance(value, io.IOBase) and value.fileno() == 1:
                return True
        except (OSError, ValueError):
            pass
    return False


def _os_error(exc: OSError) -> str:
    """An OSError as one line, naming standard output when that is what could not be written."""
    where = "standard output: " if exc.filename is None and _writing_stdout(exc) else ""
    return where + one_line(exc)


def _error_line(message: str) -> str:
    """`Error: message` on one line, whatever the message holds (a file name with a newline, a
    column name with a terminal escape): every control character shown escaped."""
    return "Error: " + printable(message)


class WholeLineCommand(cloup.Command):
    """A command (cloup's: its options in groups) whose line in the group's command list is the
    first paragraph of its help, whole: wrapped on a narrow terminal, never cut with '...'."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or " ".join((self.help or "").split("\n\n")[0].split())


class GuardedGroup(cloup.Group):
    """A Click group (cloup's: its commands listed in sections) whose commands never end in a
    traceback (unless asked for), and whose errors, usage errors included, are one line on
    standard error."""

    command_class = WholeLineCommand

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            hint = (f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else "")
            click.echo(_error_line(exc.format_message() + hint), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(_error_line(exc.format_message()), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except OSError as exc:  # before a command runs: --help or --version written nowhere
            if _debugging():
                raise
            if isinstance(exc, BrokenPipeError):  # `| head`: the reader has all it wants
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            else:
                click.echo(_error_line(_os_error(exc)), err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort,
                SystemExit, KeyboardInterrupt):
            raise
        except SentimentRNNError as exc:
            if _debugging():
                raise
            raise click.ClickException(str(exc)) from None
        except MemoryError:
            if _debugging():
                raise
            raise click.ClickException("out of memory") from None
        except OSError as exc:
            if _debugging():
                raise
            raise click.ClickException(_os_error(exc)) from None
        except Exception as exc:  # noqa: BLE001 (the one place that catches everything)
            if _debugging():
                raise
            name = type(exc).__name__
            if name == "ResourceExhaustedError":
                raise click.ClickException("out of memory (TensorFlow could not allocate a "
                                           "tensor; use a smaller model or batch)") from None
            raise click.ClickException(f"unexpected {name}: {one_line(exc)} (run with "
                                       f"--debug or {DEBUG_ENV}=1 for the traceback)") from None


class FiniteFloat(click.FloatRange):
    """A FloatRange that also refuses NaN and infinity, which compare false with any bound."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def run(main) -> None:
    """The `sentiment-rnn` program: `main`, then a last flush of standard output that turns a
    full disk or a closed pipe into an error line instead of Python's shutdown noise. What
    standard output's encoding cannot hold is written escaped."""
    code = 0
    try:  # a character the locale cannot encode is escaped, not an error (terminal.py)
        sys.stdout.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError):  # pragma: no cover (not a text file)
        pass
    try:
        main(prog_name="sentiment-rnn")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    try:
        sys.stdout.flush()
    except OSError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if not isinstance(exc, BrokenPipeError):
            sys.stderr.write(f"Error: standard output: {one_line(exc)}\n")
        code = code or 1
    sys.exit(code)
