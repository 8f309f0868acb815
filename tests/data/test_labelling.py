"""The teacher's work on two cores: the C search's fits, the teacher of sentences and the
labelling in worker processes give exactly what one process gives, in order."""

import numpy as np
import pytest

from conftest import tiny_corpus
from sentiment_rnn.data import labelling, teacher as teacher_module
from sentiment_rnn.data.teacher import fit_teacher
from sentiment_rnn.text.tokenizer import tokenize


def lines(rows):
    return [" ".join(tokenize(t)) for t, _ in rows]


def _fit(rows):
    train, val = tiny_corpus(rows), tiny_corpus(20, offset=rows)
    return fit_teacher(lines(train), [y for _, y in train], lines(val), [y for _, y in val])


def test_the_c_search_in_worker_processes_fits_what_one_process_fits(monkeypatch):
    alone = _fit(60)
    monkeypatch.setattr(teacher_module, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(teacher_module, "usable_cores", lambda: 2)
    shared = _fit(60)
    assert (shared.c, shared.validation_log_loss) == (alone.c, alone.validation_log_loss)
    np.testing.assert_array_equal(shared.model.coef_, alone.model.coef_)


def test_worker_processes_label_every_chunk_as_one_process_does_in_order(monkeypatch):
    teachers = (_fit(60), _fit(40))  # of texts, of sentences: two different teachers
    texts = lines(tiny_corpus(70, offset=300))
    chunks = [(texts[i:i + 9], np.arange(i, i + len(texts[i:i + 9])) % 3 == 0)
              for i in range(0, len(texts), 9)]
    alone = list(labelling.labelled(teachers, chunks, rows=len(texts)))
    monkeypatch.setattr(labelling, "WORKER_ROWS", 1)
    monkeypatch.setattr(labelling, "usable_cores", lambda: 2)
    shared = list(labelling.labelled(teachers, iter(chunks), rows=len(texts)))
    assert [c for c, _ in shared] == [c for c, _ in chunks] == [c for c, _ in alone]
    for (_, p), (_, q), (chunk, sentence) in zip(shared, alone, chunks):
        np.testing.assert_array_equal(p, q)
        expected = np.where(sentence, teachers[1].predict(chunk), teachers[0].predict(chunk))
        np.testing.assert_array_equal(p, expected.astype(np.float32))


def test_a_teacher_fitted_in_a_worker_is_the_one_fitted_here_and_errors_come_back(monkeypatch):
    from sentiment_rnn.errors import DataFileError

    monkeypatch.setattr(labelling, "usable_cores", lambda: 2)
    train = tiny_corpus(40)
    args = (lines(train), np.array([y for _, y in train]))
    here = fit_teacher(*args, c=10.0)
    worker = labelling.InWorker(fit_teacher, *args, c=10.0)
    assert worker._pool is not None  # it ran in a worker process
    try:
        there = worker.result()
    finally:
        worker.close()
    np.testing.assert_array_equal(there.model.coef_, here.model.coef_)
    assert there.c == 10.0 and there.c_given
    failing = labelling.InWorker(fit_teacher, args[0], np.ones(40, dtype=int))
    try:
        with pytest.raises(DataFileError, match="needs positive and negative texts"):
            failing.result()
    finally:
        failing.close()
