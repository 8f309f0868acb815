"""Score a text file too large for one machine on a Dask cluster: `predict --file` past one host.

    text file -> Dask partitions (whole 1,000-line chunks) -> the NumPy model on each worker
              -> probabilities -> OUT/part-00000.csv, part-00001.csv, ... (label,probability,text)

`sentiment-rnn predict --file F --jobs N` uses the cores of one machine; this script hands the
same work to dask.distributed. The file holds one review per line, read as `predict --file F`
reads a .txt file (every line a text, blank ones too; CRLF, a lone CR or a leading UTF-8 byte
order mark as it reads them). Each part is a CSV with predict's header, and their rows, part
after part, are exactly the rows of `sentiment-rnn predict --file F --format csv` (for a file
that predict reads without an error: its checks for NUL bytes and 10 MiB lines are not repeated).

The model is loaded once, here: weights and vocabulary, about 0.3 MB pickled, sent once to each
worker with `client.scatter`. Workers need sentiment-rnn installed, not the run folder, and
never import TensorFlow. FILE and OUT may be fsspec URLs (s3://...); on a real cluster they must
be paths or URLs that every worker can read and write.

Parts are cut at whole 1,000-line chunks on purpose. The NumPy pass runs a chunk as one batch,
and a probability's last bits depend on which texts share a BLAS call; cutting where predict
cuts gives the same bits. That costs one extra read of the file, to count each block's lines.

    python examples/score_with_dask.py --model models/latest --file reviews.txt --out scores
    python examples/score_with_dask.py ... --scheduler tcp://10.0.0.5:8786   # a running cluster
    awk 'FNR > 1 || NR == 1' scores/part-*.csv > scores.csv   # one CSV, one header
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import nullcontext
from itertools import accumulate

import dask
import dask.bag
import fsspec
from dask.distributed import Client, LocalCluster

from sentiment_rnn.prediction.predictor import Predictor
from sentiment_rnn.prediction.rows import CHUNK, classify_stream


def line_aligned_parts(path: str, blocksize: str, rows: int) -> list[list]:
    """The file's lines in parts of `rows` lines (the last shorter; one empty part for an empty
    file), each a list of delayed slices of read_text's blocks. read_text cuts by bytes, so
    each block's lines are counted first (one read), then the parts are sliced out of them."""
    fs, name = fsspec.core.url_to_fs(path)
    if fs.size(name) == 0:  # read_text would say "No files found"
        return [[]]
    blocks = dask.bag.read_text(path, blocksize=blocksize, encoding="utf-8").to_delayed()
    sizes = dask.compute(*[dask.delayed(len)(block) for block in blocks])
    starts = [0, *accumulate(sizes)]  # each block's first line
    parts = []
    for begin in range(0, max(starts[-1], 1), rows):
        end = begin + rows
        pieces = [block[max(begin - first, 0):end - first]
                  for block, first, after in zip(blocks, starts, starts[1:])
                  if first < end and after > begin]
        parts.append(pieces)
    return parts


def score_part(pieces: list[list[str]], predictor: Predictor, out: str, threshold: float,
               first: bool) -> tuple[int, int]:
    """One part's lines -> its CSV file, as `predict --file --format csv` writes them (header
    included); returns (texts, unknown). Runs on a worker."""
    texts = [line.rstrip("\r\n") for piece in pieces for line in piece]
    if first and texts:  # predict drops a UTF-8 byte order mark at the start of the file
        texts[0] = texts[0].removeprefix("\ufeff")
    counts: dict = {}
    with fsspec.open(out, "wb") as f:
        for rows in classify_stream(predictor, texts, "csv", threshold, counts=counts):
            f.write(rows.encode("utf-8"))
    return counts["texts"], counts["unknown"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="the run folder to score with")
    parser.add_argument("--file", required=True, help="one review per line (path or URL)")
    parser.add_argument("--out", required=True, help="a new or empty folder for part-*.csv")
    parser.add_argument("--scheduler", help="a running cluster's scheduler address; "
                        "default: a LocalCluster on this machine")
    parser.add_argument("--workers", type=int, default=None,
                        help="LocalCluster processes, one thread each [default: the cores]")
    parser.add_argument("--rows-per-part", type=int, default=10 * CHUNK,
                        help=f"texts per part, a multiple of {CHUNK} [default: %(default)s]")
    parser.add_argument("--blocksize", default="64MiB", help="bytes read per block")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.rows_per_part < CHUNK or args.rows_per_part % CHUNK:
        parser.error(f"--rows-per-part must be a multiple of {CHUNK}")
    if not 0 <= args.threshold <= 1:
        parser.error("--threshold must be between 0 and 1")
    fs, root = fsspec.core.url_to_fs(args.out)
    if fs.exists(root) and fs.ls(root):
        parser.error(f"{args.out} is not empty")
    fs.makedirs(root, exist_ok=True)

    predictor = Predictor(args.model, "numpy")  # loaded and checked once, here
    cluster = nullcontext(args.scheduler) if args.scheduler else LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None)
    with cluster as cluster, Client(cluster) as client:
        started = time.perf_counter()
        model = client.scatter(predictor, broadcast=True)  # one copy to each worker
        score = dask.delayed(score_part)
        parts = line_aligned_parts(args.file, args.blocksize, args.rows_per_part)
        done = client.gather(client.compute(
            [score(part, model, f"{args.out.rstrip('/')}/part-{i:05d}.csv", args.threshold,
                   i == 0) for i, part in enumerate(parts)]))
        seconds = time.perf_counter() - started
        workers = len(client.nthreads())
    texts, unknown = sum(n for n, _ in done), sum(u for _, u in done)
    print(f"{texts:,} texts ({unknown:,} unknown) in {len(parts)} part(s) under {args.out}: "
          f"{seconds:.1f} s on {workers} workers, {texts / seconds:,.0f} texts/s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
