"""A run's validation reviews read again (inspection/validation.py): exactly the texts training
validated on, for a tfds run, a user's file and a separate validation file; data changed since
training is refused."""

import numpy as np
import pytest

from conftest import tiny_corpus
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.prepare import Source, prepare
from sentiment_rnn.errors import DataFileError
from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.inspection.validation import validation_reviews
from sentiment_rnn.text.vocabulary import encode

SMALL = dict(vocab_size=30, max_len=12, seed=7, teacher="none")


def write_csv(path, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for text, y in sorted(rows, key=lambda r: r[1]):  # sorted by label, as files often are
            writer.writerow([text, ["negative", "positive"][y]])
    return path


def prepared_run(folder, config, data_dir=None) -> tuple[Run, np.ndarray, np.ndarray]:
    """A run folder with what training writes of the data (config.json's record, the prepared
    ids), and the validation ids and labels training used."""
    folder.mkdir()
    source = Source()
    vocab, _, (ids, labels) = prepare(config, data_dir, folder=folder, source=source)
    run = Run(folder, config, vocab)
    run.save_config({}, source.description)
    return run, np.asarray(ids), np.asarray(labels)


def same_as_training(run, ids, labels, data_dir=None):
    texts, got_labels, source = validation_reviews(run, None, data_dir)
    cfg = run.config
    assert np.array_equal(encode(texts, run.vocab, cfg.max_len, cfg.drop_oov, length=cfg.max_len),
                          ids)
    assert np.array_equal(got_labels, labels)
    first, _, _ = validation_reviews(run, 3, data_dir)
    assert first == texts[:3]
    return texts, source


def test_a_tfds_run_gets_the_last_part_of_the_train_split(tmp_path, tiny_data_dir):
    run, ids, labels = prepared_run(tmp_path / "run", TrainConfig(limit=60, **SMALL),
                                    tiny_data_dir)
    texts, source = same_as_training(run, ids, labels, tiny_data_dir)
    assert source == "IMDB validation reviews"
    assert texts == [t for t, _ in tiny_corpus(60)[48:]]  # the last 20%, never the test split


def test_a_file_run_gets_its_shuffled_validation_part_less_the_duplicates(tmp_path):
    rows = tiny_corpus(80)
    rows += rows[:20]  # twins: a validation copy of a training text is dropped
    data = write_csv(tmp_path / "reviews.csv", rows)
    run, ids, labels = prepared_run(tmp_path / "run", TrainConfig(data=str(data), **SMALL))
    texts, source = same_as_training(run, ids, labels)
    assert source == "validation texts of reviews.csv"
    assert len(texts) < 20  # 20% of 100, less the dropped twins
    assert set(texts) <= {t for t, _ in rows}


def test_a_separate_validation_file(tmp_path):
    train = write_csv(tmp_path / "train.csv", tiny_corpus(60))
    val = write_csv(tmp_path / "val.csv", tiny_corpus(10, offset=60))
    config = TrainConfig(data=str(train), validation_data=str(val), **SMALL)
    run, ids, labels = prepared_run(tmp_path / "run", config)
    texts, source = same_as_training(run, ids, labels)
    assert source == "validation texts of val.csv"
    assert sorted(texts) == sorted(t for t, _ in tiny_corpus(10, offset=60))


def test_data_changed_since_training_is_refused(tmp_path):
    rows = tiny_corpus(80)
    data = write_csv(tmp_path / "reviews.csv", rows)
    run, _, _ = prepared_run(tmp_path / "run", TrainConfig(data=str(data), **SMALL))
    texts, _, _ = validation_reviews(run)
    changed = [(t + " awful boring" if t == texts[0] else t, y) for t, y in rows]
    write_csv(data, changed)  # one validation review's words changed, the count the same
    with pytest.raises(DataFileError, match="the validation texts read now differ from "
                                            "training's: the data has changed"):
        validation_reviews(run)
    write_csv(data, rows[:-5])
    with pytest.raises(DataFileError, match="validation texts, training had"):
        validation_reviews(run)


def test_memory_on_a_file_run_never_imports_tensorflow(tmp_path):
    """A --data run's validation texts come from its file: `inspect --memory` / Model.memory
    stay on the NumPy path (a tfds run's read goes through tensorflow-datasets)."""
    import subprocess
    import sys
    import textwrap

    data = write_csv(tmp_path / "reviews.csv", tiny_corpus(80))
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from sentiment_rnn.config import TrainConfig
        from sentiment_rnn.data.prepare import Source, prepare
        from sentiment_rnn.files.run_folder import Run
        from sentiment_rnn.inspection.memory import memory
        from sentiment_rnn.nn.numpy_rnn import NumpyRNN
        from pathlib import Path
        folder = Path({str(tmp_path / "run")!r}); folder.mkdir()
        config = TrainConfig(data={str(data)!r}, vocab_size=30, max_len=12, embed_dim=4,
                             units=3, seed=7, teacher="none")
        source = Source()
        vocab, _, _ = prepare(config, folder=folder, source=source)
        run = Run(folder, config, vocab)
        run.save_config({{}}, source.description)
        rng = np.random.default_rng(0)
        model = NumpyRNN(rng.normal(size=(30, 4)), rng.normal(size=(4, 3)),
                         rng.normal(size=(3, 3)) / 3, np.zeros(3), rng.normal(size=(3, 1)),
                         np.zeros(1))
        report = memory(run, model, 10)
        print(report["source"], report["reviews"], sorted({{m.split(".")[0] for m in sys.modules}}
              & {{"tensorflow", "keras", "tensorflow_datasets"}}))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["validation", "texts", "of", "reviews.csv", "10", "[]"]


def test_a_label_changed_since_training_is_refused(tmp_path):
    """The same texts in the same order, one validation label flipped: only the labels' sha256
    can tell, and it must."""
    import csv

    train = write_csv(tmp_path / "train.csv", tiny_corpus(60))
    rows = tiny_corpus(10, offset=60)

    def write_val(labels):
        with open(tmp_path / "val.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["review", "sentiment"])
            for (text, _), y in zip(rows, labels):  # the file's order, never re-sorted
                writer.writerow([text, ["negative", "positive"][y]])
        return tmp_path / "val.csv"

    labels = [y for _, y in rows]
    val = write_val(labels)
    config = TrainConfig(data=str(train), validation_data=str(val), **SMALL)
    run, _, _ = prepared_run(tmp_path / "run", config)
    texts, before, _ = validation_reviews(run)
    write_val([1 - labels[0], *labels[1:]])
    from sentiment_rnn.data.prepare import labelled_texts

    _, (now, after) = labelled_texts(run.config)  # read again, unchecked
    assert now == texts and int(np.sum(np.asarray(after) != before)) == 1  # only one label
    with pytest.raises(DataFileError, match="the validation labels read now differ from "
                                            "training's: the data has changed"):
        validation_reviews(run)
