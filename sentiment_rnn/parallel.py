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
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from .errors import SentimentRNNError
from .output import CHUNK, chunk_rows, chunks_of
from .predict import Predictor

IN_FLIGHT = 2  # chunks per worker submitted ahead: one running, one queued

_worker: tuple | None = None  # (predictor, fmt, threshold) in a worker process


def one_blas_thread() -> None:
    """Let NumPy's BLAS use one thread in this process. --jobs N then means N cores: N workers
    each with a pool of BLAS threads would fight over the same cores (OpenBLAS threads spin
    while they wait), and on this model's small matrices one thread is as fast anyway. The main
    process and every worker do the same, so their arithmetic is the same too."""
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn
    except ImportError:  # pragma: no cover
        return
    threadpool_limits(1, user_api="blas")


def start_method() -> str:
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
    it before its initializer ignores it; a Ctrl-C meanwhile is delivered here afterwards."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover (Windows)
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _start_worker(predictor: Predictor, fmt: str, threshold: float) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    one_blas_thread()
    _worker = (predictor, fmt, threshold)


def _classify_chunk(chunk: list, header: bool) -> tuple[str, int]:
    predictor, fmt, threshold = _worker
    return chunk_rows(predictor, chunk, fmt, threshold, header=header)


def classify_parallel(predictor: Predictor, texts: Iterable[str | None], fmt: str = "text",
                      threshold: float = 0.5, jobs: int = 2, chunk_size: int = CHUNK,
                      counts: dict | None = None) -> Iterator[str]:
    """What `output.classify_stream` yields (output rows for each chunk of texts, in order, the
    csv header with the first), computed by `jobs` worker processes. The workers start only
    once a second chunk is read: a short input is classified here. Close the iterator (or
    exhaust it) to stop the workers."""
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
            pending.append((len(chunk), executor.submit(_classify_chunk, chunk, header)))

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
                        jobs, multiprocessing.get_context(start_method()), _start_worker,
                        (predictor, fmt, threshold))
                    submit(held, header=True)
                    held, first = None, False
                submit(chunk, header=first)
                continue
            if not pending:
                break
            yield collect(*pending.popleft())
        if held is not None:  # one chunk in all: no workers
            yield rows_of(len(held), chunk_rows(predictor, held, fmt, threshold, header=True))
            first = False
        if error is not None:
            raise error
        if first:  # no text at all: the csv header alone
            yield chunk_rows(predictor, [], fmt, threshold, header=True)[0]
    finally:
        if executor is not None:
            # running chunks finish (a moment), queued ones are dropped, the workers exit
            executor.shutdown(wait=True, cancel_futures=True)
