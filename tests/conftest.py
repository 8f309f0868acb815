"""Shared fixtures: a tiny IMDB-shaped dataset in tfds' own format, and one model trained on it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# the tool's own rule: --data-dir, else $TFDS_DATA_DIR, else data/
REAL_DATA = Path(os.environ.get("TFDS_DATA_DIR") or "data").resolve()
# CI sets this, so that missing data fails the integration test instead of skipping it
REQUIRE_DATA = os.environ.get("SENTIMENT_RNN_REQUIRE_DATA", "") not in ("", "0")

POSITIVE = ["great", "wonderful", "loved", "excellent", "best", "beautiful", "superb", "fun"]
NEGATIVE = ["awful", "boring", "worst", "terrible", "waste", "bad", "dull", "stupid"]
NEUTRAL = ["the", "movie", "film", "was", "a", "and", "story", "plot", "it", "this"]


def sigint_as_a_terminal_gives_it() -> None:
    """preexec_fn of a subprocess that a test sends Ctrl-C: SIGINT back to its default, so the
    test holds when pytest itself was started with SIGINT ignored (`nohup ... &`), which the
    child would inherit and, rightly, keep."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def tiny_corpus(n: int, offset: int = 0) -> list[tuple[str, int]]:
    """n deterministic labelled reviews: neutral words around two sentiment words."""
    rows = []
    for i in range(offset, offset + n):
        label = i % 2
        words = POSITIVE if label else NEGATIVE
        neutral = [NEUTRAL[(i * 3 + k) % len(NEUTRAL)] for k in range(4)]
        text = (f"{neutral[0].capitalize()} {neutral[1]} {words[i % 8]}, {neutral[2]} "
                f"{neutral[3]}<br /><br />{words[(i // 2 + 3) % 8]}!")
        rows.append((text, label))
    return rows


def write_tfds_imdb(root: Path, splits: dict[str, list[tuple[str, int]]]) -> Path:
    """Write `splits` as a prepared tfds `imdb_reviews/plain_text/1.0.0` under root."""
    from sentiment_rnn import _tf

    tf = _tf.tensorflow()
    folder = root / "imdb_reviews" / "plain_text" / "1.0.0"
    folder.mkdir(parents=True)
    split_info = []
    for name, rows in splits.items():
        path = folder / f"imdb_reviews-{name}.tfrecord-00000-of-00001"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for text, label in rows:
                example = tf.train.Example(features=tf.train.Features(feature={
                    "text": tf.train.Feature(bytes_list=tf.train.BytesList(
                        value=[text.encode("utf-8")])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                }))
                writer.write(example.SerializeToString())
        split_info.append({"name": name, "numBytes": str(path.stat().st_size),
                           "shardLengths": [str(len(rows))],
                           "filepathTemplate": "{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}"})
    info = {"name": "imdb_reviews", "configName": "plain_text", "version": "1.0.0",
            "fileFormat": "tfrecord", "splits": split_info,
            "moduleName": "tensorflow_datasets.datasets.imdb_reviews.imdb_reviews_dataset_builder",
            "supervisedKeys": {"tuple": {"items": [{"featureKey": "text"},
                                                   {"featureKey": "label"}]}}}
    features = {"pythonClassName": "tensorflow_datasets.core.features.features_dict.FeaturesDict",
                "featuresDict": {"features": {
                    "label": {"pythonClassName": "tensorflow_datasets.core.features."
                                                 "class_label_feature.ClassLabel",
                              "classLabel": {"numClasses": "2"}},
                    "text": {"pythonClassName": "tensorflow_datasets.core.features."
                                                "text_feature.Text", "text": {}}}}}
    (folder / "dataset_info.json").write_text(json.dumps(info))
    (folder / "features.json").write_text(json.dumps(features))
    (folder / "label.labels.txt").write_text("neg\npos\n")
    return root


@pytest.fixture(scope="session", autouse=True)
def the_checkout_is_left_alone():
    """No test may write into the checkout's models/ or data/ (tests work in temporary
    folders); this fails the session if one did."""
    root = Path(__file__).resolve().parents[1]

    def listing():
        return {str(p.relative_to(root)): os.readlink(p) if p.is_symlink() else None
                for folder in ("models", "data") for p in (root / folder).glob("*")}

    before = listing()
    yield
    assert listing() == before, "a test wrote into the checkout's models/ or data/"


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tfds")
    return write_tfds_imdb(root, {"train": tiny_corpus(60), "test": tiny_corpus(20, offset=60)})


@pytest.fixture(scope="session")
def teacher_data_dir(tmp_path_factory) -> Path:
    """The tiny dataset with an `unsupervised` split (label -1, as IMDB's) for the teacher."""
    root = tmp_path_factory.mktemp("tfds-unsup")
    unlabelled = [(text, -1) for text, _ in tiny_corpus(80, offset=200)]
    return write_tfds_imdb(root, {"train": tiny_corpus(60), "test": tiny_corpus(20, offset=60),
                                  "unsupervised": unlabelled})


TINY_TRAIN_ARGS = ["--limit", "60", "--epochs", "8", "--vocab-size", "30", "--max-len", "12",
                   "--batch-size", "8", "--learning-rate", "0.02", "--embed-dim", "8",
                   "--units", "6", "--patience", "8", "--seed", "7"]


@pytest.fixture(scope="session")
def trained_run(tiny_data_dir, tmp_path_factory) -> Path:
    """One small run trained through the CLI on the tiny dataset; copy it before changing it."""
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    workdir = tmp_path_factory.mktemp("work")
    run_dir = workdir / "models" / "tiny"
    old = os.getcwd()
    os.chdir(workdir)
    try:
        result = CliRunner().invoke(main, ["train", *TINY_TRAIN_ARGS, "--run-dir", str(run_dir),
                                           "--data-dir", str(tiny_data_dir)])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return run_dir


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A private copy of the trained run, free to damage."""
    dest = tmp_path / "run"
    shutil.copytree(trained_run, dest)
    return dest


@pytest.fixture(scope="session")
def taught_run(teacher_data_dir, tmp_path_factory) -> Path:
    """A small run with the teacher (and so the weight average, 0.99) through the CLI, 3 epochs;
    copy it before changing it."""
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    workdir = tmp_path_factory.mktemp("taught")
    run_dir = workdir / "models" / "taught"
    args = [*TINY_TRAIN_ARGS, "--epochs", "3", "--patience", "3"]
    old = os.getcwd()
    os.chdir(workdir)
    try:
        result = CliRunner().invoke(main, ["train", *args, "--run-dir", str(run_dir),
                                           "--data-dir", str(teacher_data_dir)])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return run_dir
