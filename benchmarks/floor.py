"""The floor of an epoch: the FLOPs of the ids actually read, at this machine's matmul rate.

Only the multiply-adds of the SimpleRNN cell and the Dense layer are counted:

    forward, per real (non-padding) id:  2 * (E*U + U*U) FLOPs   (x_t W_xh and h_{t-1} W_hh)
    forward, per review:                 2 * U FLOPs             (h_T W_hy)
    training ~= 3 x forward (the backward pass is about twice the forward pass)
    epoch = 3 * forward(train ids) + forward(validation ids)

Embedding look-ups, bias adds, tanh, sigmoid and Adam's updates (34,113 weights per step) are left
out: together they are a few percent of the above. Padding is not counted, so the floor is what an
implementation that skipped padding entirely would have to compute.

The rate comes from NumPy float32 matmuls timed in this process: (128 x 32) @ (32 x 32), the shape
of one RNN step for a batch of 128, called in a Python loop (so NumPy's per-call overhead, about a
microsecond, is included), and a (2048 x 2048) @ (2048 x 2048) that uses every core at full width.
The floor uses the small-matmul rate, since that is the shape the RNN runs.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def forward_flops(ids: int, reviews: int, embed_dim: int, units: int) -> int:
    """Multiply-add FLOPs of a forward pass over `ids` real steps in `reviews` reviews."""
    return ids * 2 * (embed_dim * units + units * units) + reviews * 2 * units


def epoch_flops(counts: dict, embed_dim: int = 32, units: int = 32) -> int:
    """3 x forward on the training ids (forward + backward) + forward on the validation ids."""
    train = forward_flops(counts["train_ids"], counts["train_reviews"], embed_dim, units)
    val = forward_flops(counts["val_ids"], counts["val_reviews"], embed_dim, units)
    return 3 * train + val


def matmul_rate(m: int, k: int, n: int, calls: int, repeats: int) -> float:
    """float32 FLOP/s of (m x k) @ (k x n), `calls` back-to-back calls, median of `repeats`."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up: first call allocates and starts BLAS threads
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        seconds.append(time.perf_counter() - started)
    return 2 * m * k * n * calls / statistics.median(seconds)


def measure_rates(quick: bool = False) -> dict:
    """Small-matmul and big-matmul rates in FLOP/s, with what was timed."""
    small_calls, big_calls, repeats = (5_000, 1, 3) if quick else (20_000, 3, 5)
    return {
        "small_flops_per_s": matmul_rate(128, 32, 32, small_calls, repeats),
        "small_what": f"float32 (128x32)@(32x32), {small_calls:,} calls in a Python loop, "
                      f"median of {repeats}",
        "big_flops_per_s": matmul_rate(2048, 2048, 2048, big_calls, repeats),
        "big_what": f"float32 (2048x2048)@(2048x2048), {big_calls} call(s), median of {repeats}",
    }


def id_counts(x_train: np.ndarray, x_val: np.ndarray) -> dict:
    """Real (non-zero) ids and reviews of front-padded (reviews, time) arrays."""
    return {"train_ids": int(np.count_nonzero(x_train)), "train_reviews": len(x_train),
            "val_ids": int(np.count_nonzero(x_val)), "val_reviews": len(x_val)}


def padded_counts(x_train: np.ndarray, x_val: np.ndarray, steps: int) -> dict:
    """Cell steps computed, padding included, when every batch runs `steps` steps."""
    return {"train_ids": steps * len(x_train), "train_reviews": len(x_train),
            "val_ids": steps * len(x_val), "val_reviews": len(x_val)}


def bucketed_counts(x_train: np.ndarray, x_val: np.ndarray, batch_size: int, seed: int,
                    epoch: int = 1) -> dict:
    """Cell steps sentiment-rnn computes in one epoch, padding included: each batch runs to its
    longest review (the same batches as `train` builds for 0-based `epoch`)."""
    from sentiment_rnn.nn.batching import lengths, shuffled_buckets, sorted_batches

    train_len, val_len = lengths(x_train), lengths(x_val)
    rng = np.random.default_rng([seed, epoch])
    train = shuffled_buckets(train_len, batch_size, rng, 32)
    val = sorted_batches(val_len, batch_size)
    return {"train_ids": sum(len(b) * max(int(train_len[b].max()), 1) for b in train),
            "train_reviews": len(x_train),
            "val_ids": sum(len(b) * max(int(val_len[b].max()), 1) for b in val),
            "val_reviews": len(x_val)}
