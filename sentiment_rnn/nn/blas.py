"""How many threads NumPy's BLAS may use: one, for this model's small matrices.

The matrices of the forward pass are small (batch x 32 by 32 x 32), where threads gain nothing,
and a multi-threaded BLAS that meets a busy core slows down tenfold (OpenBLAS threads spin while
they wait). So the NumPy pass runs many texts on one thread, and `predict --jobs N` gives each of
its N processes one thread: N cores, not N pools fighting over them.
"""

from __future__ import annotations

import contextlib

ONE_THREAD_FROM = 256  # texts from which predict_proba runs BLAS on one thread


def one_blas_thread(wanted: bool = True):
    """Limit BLAS to one thread from now on; used as a context manager, only inside it. With
    `wanted` false, nothing changes (a few texts: the switch costs more than it saves, as
    threadpoolctl finds the BLAS on first use)."""
    if not wanted:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    return threadpool_limits(1, user_api="blas")
