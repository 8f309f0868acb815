"""The teacher's work on the other cores: the teacher of sentences fitted in a worker process
while this one reads the unlabelled texts, then the labelling, chunks of token lines ->
P(positive), in worker processes.

    token lines, a chunk at a time -> worker processes that hold both teachers -> targets

Each chunk is labelled whole by one process, by the teacher of texts or, for a sentence, the
teacher of sentences, so the numbers are the ones a single process gives; chunks come back in
their order. Only a few chunks are in flight at once, so memory stays bounded however many
lines there are. The workers are loky's, as joblib ships it for scikit-learn: started
fresh, not forked (TensorFlow may be loaded, with its threads, in this process), and, unlike the
standard library's `spawn`, they do not run the user's script again, so a script that trains
without an `if __name__ == "__main__":` guard still works. Each gets the teachers once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator

import numpy as np
from joblib.externals.loky import ProcessPoolExecutor
from joblib.externals.loky.process_executor import BrokenProcessPool

from sentiment_rnn.config import usable_cores
from sentiment_rnn.errors import WorkerError

WORKER_ROWS = 20_000  # fewer lines: labelled in this process (a worker's start costs more)
IN_FLIGHT = 3  # chunks waiting or being labelled, per worker
IDLE_SECONDS = 60  # a worker with nothing to do this long ends (its parent killed: SIGKILL)

_held: tuple | None = None  # in a worker: the teachers, set once by its initializer


class InWorker:
    """`work(*args, **kwargs)` started in a worker process now, its result taken later with
    `result()` (its exception raised there); `close()` ends the worker, at once if the result
    was not taken (an error meanwhile). With `alone`, or one usable core, `work` runs here
    when its result is asked for."""

    def __init__(self, work: Callable, *args, alone: bool = False, **kwargs):
        self._work, self._args, self._kwargs = work, args, kwargs
        self._pool = None
        if not alone and usable_cores() > 1:
            self._pool = ProcessPoolExecutor(1, timeout=IDLE_SECONDS)
            self._pending = self._pool.submit(work, *args, **kwargs)

    def result(self):
        if self._pool is None:
            return self._work(*self._args, **self._kwargs)
        return _taken(self._pending)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, kill_workers=True)


def _taken(future):
    """A future's result; a worker that died (killed by the system when memory ran out, most
    often) said in one line."""
    try:
        return future.result()
    except BrokenProcessPool as exc:  # loky's TerminatedWorkerError is one
        raise WorkerError(f"a worker process of the teacher stopped before its work was done "
                          f"({type(exc).__name__}; out of memory?): train again with less "
                          f"data (--limit N) or more memory") from None


def predict_chunk(teachers: tuple, lines: list[str], sentence: np.ndarray) -> np.ndarray:
    """P(positive) of each token line: from teachers[0] (of texts), or teachers[1] (of
    sentences) where `sentence` is True."""
    out = np.empty(len(lines), dtype=np.float32)
    for teacher, which in zip(teachers, (~sentence, sentence)):
        if which.any():
            out[np.flatnonzero(which)] = teacher.predict(
                [line for line, w in zip(lines, which) if w])
    return out


def _hold(teachers: tuple) -> None:
    global _held
    _held = teachers


def _predict_held(lines: list[str], sentence: np.ndarray) -> np.ndarray:
    return predict_chunk(_held, lines, sentence)


def labelled(teachers: tuple, chunks: Iterable[tuple[list[str], np.ndarray]],
             rows: int) -> Iterator[tuple[list[str], np.ndarray]]:
    """Each (lines, is_sentence) chunk with its targets, in order. With WORKER_ROWS lines or
    more in all (`rows`) and more than one usable core, worker processes label them."""
    jobs = usable_cores() if rows >= WORKER_ROWS else 1
    if jobs == 1:
        for lines, sentence in chunks:
            yield lines, predict_chunk(teachers, lines, sentence)
        return
    pool = ProcessPoolExecutor(jobs, timeout=IDLE_SECONDS, initializer=_hold,
                               initargs=(teachers,))
    try:
        pending: deque = deque()
        for lines, sentence in chunks:
            pending.append((lines, pool.submit(_predict_held, lines, sentence)))
            if len(pending) >= IN_FLIGHT * jobs:
                lines, future = pending.popleft()
                yield lines, _taken(future)
        while pending:
            lines, future = pending.popleft()
            yield lines, _taken(future)
    except BaseException:  # Ctrl-C, SIGTERM, an error: the workers end now, not after
        pool.shutdown(wait=True, kill_workers=True)  # the chunks in flight
        raise
    pool.shutdown(wait=True)
