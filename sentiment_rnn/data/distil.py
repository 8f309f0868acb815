"""Knowledge distillation: unlabelled texts -> the teacher's P(positive) and ids, extra rows the RNN
learns from.

    training part (token lines, labels) -> teacher (teacher.py)
    unlabelled texts -> tokens -> the teacher's P(positive)        = the RNN's soft targets
                               -> ids (the run's vocabulary)        = the RNN's inputs

The teacher's probabilities on the 50,000 unlabelled IMDB reviews (the tfds split
`unsupervised`) give the RNN 2.5 times as much text again, with targets that also say how sure
the teacher is. On a user's file the unlabelled texts come from `--unlabelled FILE`; without
them there is nothing to teach. An unlabelled text that is also in the validation part (the
same tokens) is left out, so the model never learns the texts that judge it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.checks import line_hash, line_hashes
from sentiment_rnn.data.id_store import UNLABELLED_FILES, PreparedFiles, ids_dtype
from sentiment_rnn.data.labelling import InWorker, labelled
from sentiment_rnn.data.teacher import PARALLEL_ROWS, Teacher, fit_teacher
from sentiment_rnn.text.sentences import pick, sentence_tokens, sentences
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import Vocabulary, to_ids

UNLABELLED_SPLIT = "unsupervised"  # the tfds split of unlabelled texts (IMDB has 50,000)
TEACHER_MAX_ROWS = 100_000  # the teacher learns from at most this many training texts (memory)
BATCH = 4096  # unlabelled texts labelled at a time: memory stays bounded
PROGRESS_SECONDS = 10.0  # while reading and labelling unlabelled texts: a line this often


class _Every:
    """Calls echo(make()) at most once every `seconds`: progress lines that stay few."""

    def __init__(self, seconds: float, echo):
        self.seconds, self.echo = seconds, echo
        self.last = time.perf_counter()

    def __call__(self, make) -> None:
        now = time.perf_counter()
        if now - self.last >= self.seconds:
            self.last = now
            self.echo(make())


def why_no_teacher(config: TrainConfig, data_dir) -> str | None:
    """Why the teacher has nothing to label (no unlabelled texts), or None: asked before the
    vocabulary is built, whose df power depends on whether a teacher is used."""
    if config.data is None:
        from sentiment_rnn.data.imdb import split_names

        if UNLABELLED_SPLIT not in split_names(data_dir, config.dataset):
            return f"{config.dataset} has no {UNLABELLED_SPLIT!r} split"
        return None
    if config.unlabelled is None:
        return "no unlabelled texts were given (--unlabelled FILE)"
    return None


def _unlabelled_texts(config: TrainConfig, data_dir, note: dict) -> Iterator[list[str]] | None:
    """Batches of unlabelled texts: the tfds dataset's `unsupervised` split, or the
    config.unlabelled file; None when there are none."""
    why = why_no_teacher(config, data_dir)
    if why:
        note["why_none"] = why
        return None
    if config.data is None:
        from sentiment_rnn.data.imdb import iter_split

        _, batches = iter_split(UNLABELLED_SPLIT, data_dir, limit=config.limit,
                                dataset=config.dataset)
        note["source"] = f"tensorflow-datasets {config.dataset}, {UNLABELLED_SPLIT} split"
        return (texts for texts, _ in batches)
    note["source"] = f"the file {config.unlabelled}"
    return _file_texts(config.unlabelled, config, note)


def _file_texts(path: str, config: TrainConfig, note: dict) -> Iterator[list[str]]:
    """The file's texts in batches, its malformed records left out and counted."""
    from sentiment_rnn.files.readers import UnlabelledTexts

    texts = UnlabelledTexts(path, config.text_column)
    each = iter(texts)
    while chunk := list(islice(each, BATCH)):
        yield [t for t in chunk if t is not None]
    note["sha256"] = texts.sha256
    note["unlabelled_skipped"] = texts.skipped.count


def _fit(config: TrainConfig, token_lines: Callable[[], Iterator[str]], labels: np.ndarray,
         is_val: np.ndarray, source: str, echo,
         sentence_rows: list[tuple[str, int]]) -> tuple[Teacher, InWorker]:
    """The teacher of whole texts, fitted on the training part (at most TEACHER_MAX_ROWS
    texts) and scored on the validation part; and the teacher of sentences, to be taken with
    `result()`: with `sentence_rows` (sentences of the training texts, each with its text's
    label), a second fit on the texts and those sentences, with the first one's C, started in
    a worker process (`labelling.InWorker`); else the same teacher."""
    n_train = min(int((~is_val).sum()), TEACHER_MAX_ROWS)
    kind = "NB-weighted TF-IDF" if config.teacher == "tfidf-nb" else "TF-IDF"
    nb = config.teacher == "tfidf-nb"
    echo(f"Teacher: fitting {kind} + logistic regression on {n_train:,} training texts "
         f"(C chosen on a held-out fifth of them), then labelling the unlabelled ones "
         f"({source})")

    def train_lines():
        return islice((t for t, v in zip(token_lines(), is_val) if not v), n_train)

    def val_lines():
        return (t for t, v in zip(token_lines(), is_val) if v)

    started = {}

    def start_sentences(c: float) -> None:  # as soon as C is known: in a worker meanwhile
        if not sentence_rows:
            return
        rows = sentence_rows[:TEACHER_MAX_ROWS]
        echo(f"Teacher of sentences: the same on {n_train:,} training texts and {len(rows):,} "
             f"of their sentences (each with its text's label), C {c:g}")
        y = np.concatenate([labels[~is_val][:n_train], [label for _, label in rows]])
        started["worker"] = InWorker(fit_teacher, [*train_lines(), *(t for t, _ in rows)],
                                     y.astype(labels.dtype), list(val_lines()), labels[is_val],
                                     nb=nb, seed=config.seed, c=c,
                                     alone=n_train < PARALLEL_ROWS)

    try:
        texts = fit_teacher(train_lines(), labels[~is_val][:n_train], val_lines(),
                            labels[is_val], nb=nb, seed=config.seed, echo=echo,
                            on_c=start_sentences)
    except BaseException:
        if "worker" in started:
            started["worker"].close()
        raise
    return texts, started.get("worker") or InWorker(lambda: texts, alone=True)


def pick_sentences(text: str, n: int, rng: np.random.Generator) -> list[str]:
    """`sentences.pick` of a text's sentences."""
    return pick(sentences(text), n, rng)


def _picked_tokens(text: str, n: int, rng: np.random.Generator) -> list[list[str]]:
    """The tokens of `pick_sentences(text, n, rng)`, each sentence tokenized once."""
    return pick(sentence_tokens(text), n, rng)


def _tokens_to_file(config: TrainConfig, vocab: Vocabulary, texts: Iterable[str],
                    held_out: set, path: Path, report: _Every,
                    sentence_rows: list[tuple[str, int]] = ()) -> dict:
    """The first pass: the token line of each text that keeps at least one id written to
    `path`, a text whose tokens are in `held_out` (the validation part's hashes) left out,
    then the lines of up to config.teacher_sentences of its sentences (`pick_sentences`).
    Returns the counts: texts read, texts left out as in the validation part, sentences
    written, and which lines are sentences (`is_sentence`, a byte a line: one per line)."""
    rng = np.random.default_rng([config.seed, 3])  # not the split's, the teacher's or batches'
    count = {"texts": 0, "in_validation": 0, "sentences": 0,
             "sentences_in_validation": 0,
             "labelled_sentences": 0, "is_sentence": bytearray()}

    def write(tokens: list[str], sentence: bool) -> bool:
        if not to_ids(tokens, vocab, config.max_len, config.drop_oov):
            return False
        f.write(" ".join(tokens) + "\n")
        count["is_sentence"].append(sentence)
        return True

    with open(path, "w", encoding="utf-8") as f:
        for line, _ in sentence_rows:  # the labelled texts' sentences, as the teacher reads them
            count["labelled_sentences"] += write(line.split(), True)
        for text in texts:
            tokens = tokenize(text)
            count["texts"] += 1
            if line_hash(" ".join(tokens)) in held_out:
                count["in_validation"] += 1
            elif write(tokens, False):
                for tokens in _picked_tokens(text, config.teacher_sentences, rng):
                    if line_hash(" ".join(tokens)) in held_out:  # a validation text itself
                        count["sentences_in_validation"] += 1
                    else:
                        count["sentences"] += write(tokens, True)
            report(lambda: f"Teacher: read {count['texts']:,} unlabelled texts")
    return count


def _label(config: TrainConfig, vocab: Vocabulary, teachers: tuple[Teacher, Teacher],
           path: Path, is_sentence: bytearray, files: PreparedFiles | None,
           report: _Every) -> tuple[np.ndarray, np.ndarray]:
    """The second pass: the ids and P(positive) of each line of `path`, a batch at a time,
    from the teacher of texts or, for a sentence, the teacher of sentences; written with the
    run folder's prepared `files` (else held in memory)."""
    rows = len(is_sentence)
    sentence = np.frombuffer(bytes(is_sentence), dtype=np.bool_)
    dtype = ids_dtype(len(vocab))
    if files is None:
        ids = np.zeros((rows, config.max_len), dtype=dtype)
    else:
        ids = files.new_array(UNLABELLED_FILES[0], (rows, config.max_len), dtype)
    targets = np.empty(rows, dtype=np.float32)
    with open(path, encoding="utf-8") as f:
        lines = (line.rstrip("\n") for line in f)

        def chunks():  # each chunk of lines with whether each is a sentence
            at = 0
            while chunk := list(islice(lines, BATCH)):
                yield chunk, sentence[at:at + len(chunk)]
                at += len(chunk)

        start = 0
        for chunk, p in labelled(teachers, chunks(), rows):
            targets[start:start + len(chunk)] = p
            for row, line in enumerate(chunk, start):
                seq = to_ids(line.split(), vocab, config.max_len, config.drop_oov)
                ids[row, -len(seq):] = seq
            start += len(chunk)
            report(lambda: f"Teacher: labelled {start:,} of {rows:,} texts and sentences")
    if files is not None:
        ids.flush()
        files.save(UNLABELLED_FILES[1], targets)
    return ids, targets


def _not_validation(labelled_sentences, held_out: set, note: dict) -> list[tuple[str, int]]:
    """The training texts' sentences (token line, label), less those that are a validation
    text (left out, as an unlabelled text is, and counted in the note)."""
    rows, note["labelled_sentences_in_validation"] = [], 0
    for line, label in labelled_sentences() if labelled_sentences else ():
        if line_hash(line) in held_out:
            note["labelled_sentences_in_validation"] += 1
        else:
            rows.append((line, label))
    return rows


def distil(config: TrainConfig, data_dir, vocab: Vocabulary, files: PreparedFiles | None,
           scratch: Path, token_lines: Callable[[], Iterator[str]], labels: np.ndarray,
           is_val: np.ndarray, info: dict, echo=None,
           labelled_sentences: Callable[[], Iterator[tuple[str, int]]] | None = None):
    """Fit the teacher on the training part (token lines of every labelled row, in order, and
    which rows are validation) and the `labelled_sentences` of its texts (token line, label),
    label those sentences and the unlabelled texts, and return their (ids, targets),
    also written as ids-unlabelled.npy and targets-unlabelled.npy with the run folder's
    prepared `files`; None when there are no unlabelled texts. `info["teacher"]` records what
    was done."""
    echo = echo or (lambda *a: None)
    started = time.perf_counter()
    note: dict = {}
    info["teacher"] = note
    batches = _unlabelled_texts(config, data_dir, note)
    if batches is None:
        note["used"] = False
        echo(f"No teacher: {note['why_none']}")
        return None
    held_out = set(line_hashes(t for t, v in zip(token_lines(), is_val) if v).tolist())
    sentence_rows = _not_validation(labelled_sentences, held_out, note)
    teacher, sentence_teacher = _fit(config, token_lines, labels, is_val, note["source"],
                                     echo, sentence_rows)
    report = _Every(PROGRESS_SECONDS, echo)
    texts = islice((t for batch in batches for t in batch), config.limit)
    path = scratch / "unlabelled.txt"
    try:
        count = _tokens_to_file(config, vocab, texts, held_out, path, report, sentence_rows)
        of_sentences = sentence_teacher.result()  # fitted meanwhile
    finally:
        sentence_teacher.close()
    total, in_validation, rows = count["texts"], count["in_validation"], len(count["is_sentence"])
    mine = count["labelled_sentences"]  # the first rows: sentences of the training part
    ids, targets = _label(config, vocab, (teacher, of_sentences), path, count["is_sentence"],
                          files, report)
    texts_used = rows - count["sentences"] - mine
    note.update(used=rows > mine, **teacher.describe(), unlabelled_texts=total,
                unlabelled_in_validation=in_validation, unlabelled_used=texts_used,
                unlabelled_sentences=count["sentences"], labelled_sentences=mine,
                sentences_in_validation=count["sentences_in_validation"],
                mean_target=round(float(targets.mean()), 4) if rows else None,
                seconds=round(time.perf_counter() - started, 1))
    if of_sentences is not teacher:
        note["sentence_teacher"] = of_sentences.describe()
    if in_validation:
        echo(f"Left out {in_validation:,} unlabelled texts that are also in the validation part "
             f"(compared as tokens): the model does not learn the validation texts")
    sentences_out = count["sentences_in_validation"] + note["labelled_sentences_in_validation"]
    if sentences_out:
        echo(f"Left out {sentences_out:,} sentences that are validation texts (compared as "
             f"tokens)")
    echo(f"Teacher (C {teacher.c:g}): validation accuracy {teacher.validation_accuracy:.4f} "
         f"(the validation part chose nothing); it labelled {texts_used:,} unlabelled texts "
         f"and {count['sentences']:,} of their sentences"
         + (f", and {mine:,} sentences of the training texts" if mine else "")
         + f" in {note['seconds']:.0f} s")
    if rows == mine:
        echo(f"No teacher: none of the {total:,} unlabelled texts has a word in the vocabulary")
        return None
    return ids, targets
