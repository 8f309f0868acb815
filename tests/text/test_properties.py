"""Property-based tests (hypothesis) of the readers and the tokenizer.

Any bytes in: records out, or one DataFileError, never another exception. Valid input: exactly
one text out per record written, equal to it, in order, in every format.
"""

import csv
import io
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment_rnn.errors import DataFileError
from sentiment_rnn.files.readers import read_labelled, read_texts
from sentiment_rnn.files.streams import Source
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import OOV, Vocabulary, encode

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
FORMATS = ("lines", "csv", "tsv", "jsonl")

# bytes that look a little like our formats, and plain noise
shaped = st.lists(st.sampled_from([b"text", b"label", b",", b"\t", b'"', b"\n", b"\r\n", b"{",
                                   b"}", b'"text": ', b"1", b"great", b"\xff", b"\x00",
                                   b"\xef\xbb\xbf", b" ", b"[", b"]"]), max_size=40).map(b"".join)
noise = st.binary(max_size=300)


def texts_of(data: bytes, fmt: str, limit: int = 64) -> list:
    with Source("input", limit=limit, stream=io.BytesIO(data)) as source:
        return list(read_texts(source, fmt, skip_bad=True))


@SETTINGS
@given(data=st.one_of(shaped, noise), fmt=st.sampled_from(FORMATS))
def test_any_bytes_give_texts_or_one_clean_error(data, fmt):
    try:
        out = texts_of(data, fmt)
    except DataFileError as exc:
        assert "\n" not in str(exc)
        return
    assert all(t is None or isinstance(t, str) for t in out)


@SETTINGS
@given(data=st.one_of(shaped, noise))
def test_any_bytes_as_a_labelled_file_give_rows_or_one_clean_error(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "input.dat"
    path.write_bytes(data)
    try:
        found = read_labelled(path, skip_bad=True)
    except DataFileError as exc:
        assert "\n" not in str(exc)
        return
    assert len(found.texts) == len(found.labels) > 0
    assert set(found.labels.tolist()) <= {0, 1}


# texts a user might write: any characters, on one line for the line-based formats
one_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"
                                 "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=40)
any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                   max_size=40)


def write(texts: list, fmt: str) -> bytes:
    out = io.StringIO(newline="")
    if fmt == "lines":
        out.write("".join(t + "\n" for t in texts))
    elif fmt == "tsv":
        out.write("text\n" + "".join(t + "\n" for t in texts))
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    else:
        out.write("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return out.getvalue().encode("utf-8")


@SETTINGS
@given(texts=st.lists(one_line, max_size=20), fmt=st.sampled_from(FORMATS))
def test_one_text_out_per_record_in_order(texts, fmt):
    if fmt == "tsv":
        texts = [t.replace("\t", " ") for t in texts]
    if fmt in ("tsv", "csv"):  # an empty line is no record in CSV/TSV; "" written by csv is
        texts = [t for t in texts if t or fmt == "csv"]
    assert texts_of(write(texts, fmt), fmt, limit=10_000) == texts


@SETTINGS
@given(texts=st.lists(any_text, max_size=12))
def test_csv_and_jsonl_keep_newlines_inside_texts(texts):
    for fmt in ("csv", "jsonl"):
        got = texts_of(write(texts, fmt), fmt, limit=10_000)
        assert got == texts


@SETTINGS
@given(text=st.text(max_size=200))
def test_the_tokenizer_gives_lowercase_words_and_ids_in_range(text):
    tokens = tokenize(text)
    assert all(t == t.lower() for t in tokens)  # lowercase
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    assert all(re.fullmatch(r"[^\W_]+", t) for t in tokens)  # word characters only
    assert tokenize(" ".join(tokens)) == tokens  # tokenizing is idempotent on its output
    vocab = Vocabulary(["<pad>", "<oov>", "great", "film"])
    ids = encode([text], vocab, max_len=50, drop_oov=False)
    assert ids.shape[0] == 1 and ((ids >= 0) & (ids < 4)).all()
    assert (ids == OOV).sum() == sum(1 for t in tokens[-50:] if t not in ("great", "film"))
