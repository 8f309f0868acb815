"""`predict --file --jobs N`: the chunks of a stream classified by N worker processes, in order.

    reader (this process) -> chunks of CHUNK texts -> N workers: chunk_rows -> rows, in order

This process reads and checks the input (so a malformed record's line number is exact and its
error is raised here) and writes the output; each worker only turns a chunk of texts into its
output rows with the same `chunk_rows` as one process, so the output is the same, byte for byte.
At most 2 N chunks are in flight: memory stays bounded whatever the input's length. A chunk is
written as soon as it and every chunk before it are done; an error while reading comes after
every chunk before it has been written, as with one process.

Workers get the loaded model once each, at start (the initializer), never with each chunk. They
ignore Ctrl-C: the terminal sends SIGINT to the whole process group, and the main process stops
them itself (it lets running chunks finish, drops the rest), so only one line is printed.
SIGTERM to the main process stops it the same way (`stopped_by_sigterm`). A worker never
outlives the main process, however that ends (SIGKILL too): on Linux the kernel kills it when
its parent dies (PR_SET_PDEATHSIG), elsewhere a thread in it watches for a new parent.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from sentiment_rnn.errors import SentimentRNNError
from sentiment_rnn.nn.blas import one_blas_thread
from sentiment_rnn.prediction.rows import CHUNK, chunk_rows, chunks_of, texts_in
from sentiment_rnn.prediction.predictor import Predictor

IN_FLIGHT = 2  # chunks per worker submitted ahead: one running, one queued

_worker: tuple | None = None  # (predictor, fmt, threshold, escape_formulas) in a worker
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
WATCH_SECONDS = 0.5  # without prctl: how often a worker checks that its parent is alive


def _start_method() -> str:
    """How workers are started, chosen on purpose.

    fork where the platform has it and TensorFlow is not imported: the workers start at once
    and inherit the already loaded and verified model (no re-reading of the run folder, no
    import). Forking a process that has imported TensorFlow is unsafe (its thread pools and
    locks do not survive a fork), and the NumPy path never imports it, so this is the case on
    the command line. Otherwise (TensorFlow imported by a caller in this process, as in the
    tests, or no fork) spawn: fresh interpreters that import only sentiment_rnn's NumPy path
    and get the model pickled once each."""
    if "tensorflow" not in sys.modules and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


@contextmanager
def _sigint_blocked():
    """SIGINT held back in this thread while workers may be started, so a new worker starts with
    it blocked (a fork copies the mask, and so does the exec of spawn) and no Ctrl-C reaches
    it before its initializer ignores it; a Ctrl-C meanwhile is delivered here afterwards.
    SIGTERM too, so that it stops this process between two starts, never in one."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover (Windows)
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def die_with_parent(parent: int) -> None:
    """End this process when `parent` (the process that started it) is gone: SIGKILL from the
    kernel on Linux, else a thread that polls for a new parent. If the parent died before
    this was set up, this process has another parent already and ends now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = sys.platform.startswith("linux") and \
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover (no libc, no prctl)
        armed = False
    if os.getppid() != parent:  # it died before the kernel was told
        os._exit(1)
    if not armed:  # pragma: no cover (not Linux)
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(WATCH_SECONDS)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _start_worker(predictor: Predictor, fmt: str, threshold: float, escape_formulas: bool,
                  parent: int) -> None:
    global _worker
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker had the main one's
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    one_blas_thread()
    _worker = (predictor, fmt, threshold, escape_formulas)


def _classify_chunk(chunk: list, header: bool) -> tuple[str, int]:
    predictor, fmt, threshold, escape_formulas = _worker
    return chunk_rows(predictor, chunk, fmt, threshold, header, escape_formulas)


class _Terminated(SystemExit):
    """SIGTERM, raised in the main thread so that the workers are stopped on the way out."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


@contextmanager
def stopped_by_sigterm():
    """Within: SIGTERM raises _Terminated (exit code 143) in this, the main, thread, so every
    `finally` runs and the workers are shut down, instead of the process vanishing at once."""
    def handler(signum, frame):
        raise _Terminated()

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # pragma: no cover (not the main thread: leave SIGTERM as it is)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def classify_parallel(predictor: Predictor, texts: Iterable[str | None], fmt: str = "text",
                      threshold: float = 0.5, jobs: int = 2, chunk_size: int = CHUNK,
                      counts: dict | None = None, escape_formulas: bool = True
                      ) -> Iterator[str]:
    """What `output.classify_stream` yields (output rows for each chunk of texts, in order, the
    csv header with the first), computed by `jobs` worker processes. The workers start only
    once a second chunk is read: a short input is classified here. Close the iterator (or
    exhaust it) to stop the workers. Long because it is one generator whose loop, held first
    chunk and pending futures share the pool that its `finally` must shut down."""
    if predictor.backend != "numpy":
        raise ValueError("only the NumPy backend runs in worker processes")
    if counts is not None:
        counts.update(texts=0, unknown=0)
    chunks = chunks_of(texts, chunk_size)
    pending: deque[tuple[int, Future]] = deque()  # (texts in it, its rows to come), in order
    held: list | None = None  # the first chunk, until a second one shows the pool is worth it
    executor: ProcessPoolExecutor | None = None
    error: Exception | None = None
    exhausted = False
    first = True  # the csv header is still to come

    def rows_of(n: int, result: tuple[str, int]) -> str:
        if counts is not None:
            counts["texts"] += n
            counts["unknown"] += result[1]
        return result[0]

    def collect(n: int, future: Future) -> str:
        try:
            return rows_of(n, future.result())
        except BrokenProcessPool:
            raise SentimentRNNError("a worker process ended unexpectedly (killed, or out of "
                                    "memory?); try fewer --jobs") from None

    def submit(chunk: list, header: bool) -> None:
        with _sigint_blocked():
            pending.append((texts_in(chunk), executor.submit(_classify_chunk, chunk, header)))

    try:
        while True:
            while pending and pending[0][1].done():  # written as soon as it is its turn
                yield collect(*pending.popleft())
            if not exhausted and len(pending) < IN_FLIGHT * jobs:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    exhausted = True
                    continue
                except Exception as exc:  # noqa: BLE001 raised after the chunks before it
                    error, exhausted = exc, True
                    continue
                if executor is None and held is None:
                    held = chunk
                    continue
                if executor is None:
                    executor = ProcessPoolExecutor(
                        jobs, multiprocessing.get_context(_start_method()), _start_worker,
                        (predictor, fmt, threshold, escape_formulas, os.getpid()))
                    submit(held, header=True)
                    held, first = None, False
                submit(chunk, header=first)
                continue
            if not pending:
                break
            yield collect(*pending.popleft())
        if held is not None:  # one chunk in all: no workers
            yield rows_of(texts_in(held), chunk_rows(predictor, held, fmt, threshold, True,
                                                     escape_formulas))
            first = False
        if error is not None:
            raise error
        if first:  # no text at all: the csv header alone
            yield chunk_rows(predictor, [], fmt, threshold, header=True)[0]
    finally:
        if executor is not None:
            # running chunks finish (a moment), queued ones are dropped, the workers exit
            executor.shutdown(wait=True, cancel_futures=True)
