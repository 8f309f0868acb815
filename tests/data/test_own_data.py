"""Training on a user's own files and on other tfds datasets: train --data, --validation-data,
--dataset, column names and label values."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE, tiny_corpus, write_tfds_imdb
from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.prepare import prepare, stratified_validation

SMALL = ["--epochs", "3", "--vocab-size", "30", "--max-len", "12", "--batch-size", "8",
         "--learning-rate", "0.02", "--embed-dim", "8", "--units", "6", "--seed", "7",
         "--no-jit"]


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def write_csv(path, rows, header=("review", "sentiment"), labels=("negative", "positive")):
    """The popular IMDB CSV shape: review,sentiment with positive/negative; sorted by label,
    as users' files often are."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for text, y in sorted(rows, key=lambda r: r[1]):
            writer.writerow([text, labels[y]])
    return path


def test_the_popular_review_sentiment_csv_trains_and_evaluates_as_it_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "IMDB Dataset.csv", tiny_corpus(80))
    result = invoke("train", "--data", data, *SMALL, "--run-dir", "run")
    assert result.exit_code == 0, result.output
    assert ("Training on 64 reviews, validating on 16 (20% of each label, after a shuffle "
            "seeded with 7)") in result.output
    meta = json.loads((tmp_path / "run" / "config.json").read_text())
    source = meta["data"]
    assert (source["source"], source["format"], source["rows"]) == (str(data), "csv", 80)
    assert len(source["sha256"]) == 64 and source["train_reviews"] == 64
    assert source["validation"] == "20% of each label, after a shuffle seeded with 7"
    assert not (tmp_path / "run" / "ids-train.npy").exists()  # kept only until complete
    out = json.loads(invoke("evaluate", "--model", "run", "--data", data, "--json").stdout)
    assert out["n"] == 80 and out["accuracy"] > 0.9


def test_a_ratings_file_trains_with_positive_and_negative_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [{"content": t, "stars": [1, 5][y] if i % 3 else [2, 4][y]}
            for i, (t, y) in enumerate(tiny_corpus(80))]
    rows += [{"content": "an ok film", "stars": 3}] * 7  # neither: counted and left out
    data = tmp_path / "ratings.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = invoke("train", "--data", data, "--label-column", "stars", "--positive", "4,5",
                    "--negative", "1,2", *SMALL, "--run-dir", "run")
    assert result.exit_code == 0, result.output
    source = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert (source["rows"], source["left_out_other_labels"]) == (80, {"3": 7})
    out = invoke("evaluate", "--model", "run", "--data", data)  # the run's label map
    assert out.exit_code == 0, out.output
    assert (f"Data: {data} (JSONL, 80 labelled texts; 7 rows with other labels left out "
            f"(3: 7))") in out.stdout


def test_a_separate_validation_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train = write_csv(tmp_path / "train.csv", tiny_corpus(60))
    val = write_csv(tmp_path / "val.csv", tiny_corpus(10, offset=60))
    result = invoke("train", "--data", train, "--validation-data", val, *SMALL, "--run-dir",
                    "run")
    assert result.exit_code == 0, result.output
    assert "Training on 60 reviews, validating on 10" in result.output
    source = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert source["validation"] == f"the file {val}"
    assert source["validation_file"]["rows"] == 10


def test_the_validation_part_of_a_sorted_file_holds_both_labels_in_proportion():
    labels = np.array([0] * 70 + [1] * 30)  # sorted by label
    mask = stratified_validation(labels, 0.2, seed=3)
    assert (labels[mask] == 0).sum() == 14 and (labels[mask] == 1).sum() == 6
    np.testing.assert_array_equal(mask, stratified_validation(labels, 0.2, seed=3))
    assert not np.array_equal(mask, stratified_validation(labels, 0.2, seed=4))


def test_prepare_streams_ids_into_memory_maps(tmp_path):
    data = write_csv(tmp_path / "d.csv", tiny_corpus(50))
    folder = tmp_path / "run"
    folder.mkdir()
    config = TrainConfig(data=str(data), vocab_size=30, max_len=12)
    vocab, (x, y), (xv, yv) = prepare(config, folder=folder)
    assert isinstance(x, np.memmap) and x.dtype == np.uint16 and x.shape == (40, 12)
    assert sorted(p.name for p in folder.iterdir()) == [
        "ids-train.npy", "ids-validation.npy", "labels-train.npy", "labels-validation.npy",
        "prepared.json"]
    same, (x2, y2), _ = prepare(config)  # in memory: the same ids
    np.testing.assert_array_equal(np.asarray(x), x2)
    assert vocab.words == same.words


@pytest.mark.parametrize("args, message", [
    (["--validation-data", "{data}"], "--validation-data needs --data FILE"),
    (["--data", "{data}", "--positive", "4"], "give both --positive and --negative, or neither"),
    (["--data", "{data}", "--positive", ","],
     "Invalid value for '--positive': give one or more comma-separated label values"),
])
def test_bad_data_options(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(20))
    result = invoke("train", *[a.format(data=data) for a in args])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {message}") and result.output.count("\n") == 1
    assert not (tmp_path / "models").exists()


def test_a_file_with_one_label_only_cannot_be_split(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", [(t, 1) for t, _ in tiny_corpus(1)])
    result = invoke("train", "--data", data, *SMALL)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {data}: every labelled text is positive (1 "
                                    f"positive, 0 negative)")
    assert not (tmp_path / "models").exists()


def test_any_binary_tfds_dataset_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_tfds_imdb(tmp_path / "tfds", {"train": tiny_corpus(60),
                                               "test": tiny_corpus(20, offset=60)})
    (root / "imdb_reviews").rename(root / "tiny_reviews")  # a dataset not in the catalog
    folder = root / "tiny_reviews" / "plain_text" / "1.0.0"
    info = folder / "dataset_info.json"
    info.write_text(info.read_text().replace('"name": "imdb_reviews"', '"name": "tiny_reviews"'))
    for record in folder.glob("imdb_reviews-*"):
        record.rename(folder / record.name.replace("imdb_reviews", "tiny_reviews"))
    result = invoke("train", "--dataset", "tiny_reviews", "--data-dir", root, *SMALL,
                    "--run-dir", "run")
    assert result.exit_code == 0, result.output
    assert "Training on 48 reviews, validating on 12" in result.output
    out = invoke("evaluate", "--model", "run", "--data-dir", root)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[1] == "tiny_reviews test split"
    missing = invoke("train", "--dataset", "no_such_set", "--data-dir", root, *SMALL)
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: no_such_set: no such dataset")


def test_predict_finds_the_text_column_by_its_common_name_or_as_told(trained_run, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,sentence\n1,great fun\n2,boring awful\n")
    a = invoke("predict", "--model", trained_run, "--file", path, "--format", "jsonl")
    assert [json.loads(r)["text"] for r in a.stdout.splitlines()] == ["great fun", "boring awful"]
    path.write_text("id,comment\n1,great fun\n")
    b = invoke("predict", "--model", trained_run, "--file", path, "--text-column", "Comment")
    assert b.exit_code == 0 and b.stdout.startswith("positive")


def test_words_of_both_labels_are_in_the_vocabulary_of_an_own_data_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "d.csv", tiny_corpus(80))
    assert invoke("train", "--data", data, *SMALL, "--run-dir", "run").exit_code == 0
    words = (tmp_path / "run" / "vocab.txt").read_text().split()
    assert set(POSITIVE[:4]) <= set(words) and set(NEGATIVE[:4]) <= set(words)
