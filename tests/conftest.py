"""Shared fixtures: a tiny IMDB-shaped dataset in tfds' own format, and one model trained on it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

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


# --no-jit: XLA spends seconds compiling each batch shape, more than a tiny run trains; the
# tests of XLA itself (training/test_jit.py, test_resume.py, nn/test_average.py) train with it
TINY_TRAIN_ARGS = ["--limit", "60", "--epochs", "8", "--vocab-size", "30", "--max-len", "12",
                   "--batch-size", "8", "--learning-rate", "0.02", "--embed-dim", "8",
                   "--units", "6", "--patience", "8", "--seed", "7", "--no-jit"]


class CliRun(NamedTuple):
    """A run trained through the CLI in this process, and what the command printed."""

    run_dir: Path
    output: str


def train_through_the_cli(workdir: Path, name: str, args: list[str], data_dir: Path) -> CliRun:
    """`sentiment-rnn train ARGS --run-dir workdir/models/NAME --data-dir DATA_DIR`, run in
    this process with workdir as the current folder; it must succeed."""
    from click.testing import CliRunner

    from sentiment_rnn.cli.commands import main

    run_dir = workdir / "models" / name
    old = os.getcwd()
    os.chdir(workdir)
    try:
        result = CliRunner().invoke(main, ["train", *args, "--run-dir", str(run_dir),
                                           "--data-dir", str(data_dir)])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return CliRun(run_dir, result.output)


@pytest.fixture(scope="session")
def trained(tiny_data_dir, tmp_path_factory) -> CliRun:
    """One small run trained through the CLI on the tiny dataset (TINY_TRAIN_ARGS), with its
    output; copy the folder before changing it."""
    return train_through_the_cli(tmp_path_factory.mktemp("work"), "tiny", TINY_TRAIN_ARGS,
                                 tiny_data_dir)


@pytest.fixture(scope="session")
def trained_run(trained) -> Path:
    """The folder of `trained`; copy it before changing it."""
    return trained.run_dir


@pytest.fixture(scope="session")
def lstm_run(tiny_data_dir, tmp_path_factory) -> Path:
    """The `trained` run's recipe with --cell lstm: a tiny LSTM run. Copy it before changing
    it."""
    return train_through_the_cli(tmp_path_factory.mktemp("lstm"), "lstm",
                                 [*TINY_TRAIN_ARGS, "--cell", "lstm"], tiny_data_dir).run_dir


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A private copy of the trained run, free to damage."""
    dest = tmp_path / "run"
    shutil.copytree(trained_run, dest)
    return dest


@pytest.fixture(scope="session")
def taught(teacher_data_dir, tmp_path_factory) -> CliRun:
    """A small run with the teacher (and so the weight average, 0.99) through the CLI: the same
    TINY_TRAIN_ARGS as `trained`, on the tiny dataset with an unsupervised split; with its
    output. Copy the folder before changing it."""
    return train_through_the_cli(tmp_path_factory.mktemp("taught"), "taught", TINY_TRAIN_ARGS,
                                 teacher_data_dir)


@pytest.fixture(scope="session")
def taught_run(taught) -> Path:
    """The folder of `taught`; copy it before changing it."""
    return taught.run_dir


def start_and_interrupt(cmd: list[str], run_dir: Path, sig: int, cwd: Path,
                        after_epoch: int) -> tuple[int, str]:
    """Start the training `cmd` in a process of its own, wait until its state.json says
    `after_epoch` epochs are committed, then send it `sig`; its exit code and output (stdout
    and stderr). Fails if the training ended before it could be interrupted."""
    import json
    import subprocess
    import time

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    state = run_dir / "state.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if json.loads(state.read_text())["epoch"] >= after_epoch:
                    break
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                pass
            time.sleep(0.005)
        assert proc.poll() is None, "training ended before it could be interrupted"
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # a failed check above: leave no training behind
            proc.kill()
            proc.communicate()
    return proc.returncode, output
