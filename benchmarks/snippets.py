"""Short reviews that no one here wrote: the human-rated sentences of Hutto and Gilbert's VADER
study (ICWSM 2014), which ship inside the vaderSentiment source package (MIT licence).

    pip download vaderSentiment==3.3.2 (source) -> additional_resources/hutto_ICWSM_2014.tar.gz
      -> movieReviewSnippets_GroundTruth.txt (10,605 sentences of film reviews, Pang and Lee's)
      -> amazonReviewSnippets_GroundTruth.txt (3,708 sentences of product reviews)

Each sentence has the mean of about 20 people's ratings from -4 to +4. A sentence counts as
positive at a mean of +1 or more, negative at -1 or less; the ones between (rated near
neutral) are left out. These sets judge a model only: nothing is chosen on them.

    python benchmarks/snippets.py --model RUN [--model RUN ...] [--folder DIR]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

PACKAGE = "vaderSentiment==3.3.2"
CACHE = Path.home() / ".cache" / "sentiment-rnn" / "hutto_ICWSM_2014"
SETS = {"film-review sentences (VADER)": "movieReviewSnippets_GroundTruth.txt",
        "product-review sentences (VADER)": "amazonReviewSnippets_GroundTruth.txt"}
MARGIN = 1.0  # |mean rating| at least this: clearly positive or negative to the raters


def fetch(folder: Path = CACHE) -> Path:
    """The folder of the study's ground-truth files, downloaded from the package registry
    with pip the first time."""
    if all((folder / name).exists() for name in SETS.values()):
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "-d", tmp, PACKAGE], check=True)
        with tarfile.open(next(Path(tmp).glob("vaderSentiment-*.tar.gz"))) as outer:
            inner = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
            data = outer.extractfile(inner).read()
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as study:
            for member in study.getmembers():
                if Path(member.name).name in SETS.values():
                    (folder / Path(member.name).name).write_bytes(study.extractfile(member).read())
    return folder


def read(path: Path, margin: float = MARGIN) -> tuple[list[str], np.ndarray]:
    """(texts, labels) of one ground-truth file: id <TAB> mean rating <TAB> text."""
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and abs(float(parts[1])) >= margin:
            texts.append(parts[2])
            labels.append(int(float(parts[1]) > 0))
    return texts, np.array(labels, dtype=np.int32)


def load(folder: Path | None = None) -> dict[str, tuple[list[str], np.ndarray]]:
    folder = fetch() if folder is None else folder
    return {name: read(folder / file) for name, file in SETS.items()}


def main() -> None:
    from sentiment_rnn.prediction.predictor import Predictor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="a run folder")
    parser.add_argument("--folder", type=Path, help="the study's files  [default: fetched]")
    args = parser.parse_args()
    sets = load(args.folder)
    for run in args.model:
        model = Predictor(run)
        for name, (texts, labels) in sets.items():
            probs = model.predict(texts)
            right = np.where(np.isnan(probs), False, (probs >= 0.5) == labels)
            print(f"{run}\t{name}\t{len(labels):,} sentences\taccuracy {right.mean():.4f}\t"
                  f"no known word {int(np.isnan(probs).sum()):,}")


if __name__ == "__main__":
    main()
