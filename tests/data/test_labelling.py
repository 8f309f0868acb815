"""The teacher's work on two cores: the C search's fits, the teacher of sentences and the
labelling in worker processes give exactly what one process gives, in order."""

import os
from pathlib import Path

import numpy as np
import pytest

from conftest import tiny_corpus
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data import distil, labelling, teacher as teacher_module
from sentiment_rnn.data.prepare import Source, prepare
from sentiment_rnn.data.teacher import fit_teacher
from sentiment_rnn.text.tokenizer import tokenize


def children() -> set[int]:
    """This process's worker processes (loky's, not its resource trackers), from /proc."""
    mine = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # not a process, or gone
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"LokyProcess" in cmdline:
            mine.add(int(entry.name))
    return mine


def end_joblibs_workers() -> None:
    """joblib keeps its reusable workers (the C search's) for 300 s by design: end them."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def workers_on(monkeypatch) -> None:
    """The worker paths taken even for tiny data, on two cores."""
    monkeypatch.setattr(labelling, "WORKER_ROWS", 1)
    monkeypatch.setattr(labelling, "usable_cores", lambda: 2)
    monkeypatch.setattr(teacher_module, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(teacher_module, "usable_cores", lambda: 2)
    monkeypatch.setattr(distil, "PARALLEL_ROWS", 1)


def lines(rows):
    return [" ".join(tokenize(t)) for t, _ in rows]


def _fit(rows):
    train, val = tiny_corpus(rows), tiny_corpus(20, offset=rows)
    return fit_teacher(lines(train), [y for _, y in train], lines(val), [y for _, y in val])


def test_the_c_search_in_worker_processes_fits_what_one_process_fits(monkeypatch):
    import joblib

    alone = _fit(60)
    workers_on(monkeypatch)
    asked, parallel = [], joblib.Parallel

    def recorded(*args, **kwargs):  # the fits are sent to two worker processes
        asked.append(kwargs.get("n_jobs"))
        return parallel(*args, **kwargs)

    monkeypatch.setattr(joblib, "Parallel", recorded)
    shared = _fit(60)
    assert asked == [2]
    assert (shared.c, shared.validation_log_loss) == (alone.c, alone.validation_log_loss)
    np.testing.assert_array_equal(shared.model.coef_, alone.model.coef_)


def test_worker_processes_label_every_chunk_as_one_process_does_in_order(monkeypatch):
    teachers = (_fit(60), _fit(40))  # of texts, of sentences: two different teachers
    texts = lines(tiny_corpus(70, offset=300))
    chunks = [(texts[i:i + 9], np.arange(i, i + len(texts[i:i + 9])) % 3 == 0)
              for i in range(0, len(texts), 9)]
    alone = list(labelling.labelled(teachers, chunks, rows=len(texts)))
    workers_on(monkeypatch)
    before = children()
    running = labelling.labelled(teachers, iter(chunks), rows=len(texts))
    shared = [next(running)]
    assert len(children() - before) == 2  # two worker processes label
    shared += list(running)
    assert not children() - before  # and end with the last chunk
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
    elsewhere = labelling.InWorker(os.getpid)
    try:
        assert elsewhere.result() != os.getpid()  # a worker process computes it
    finally:
        elsewhere.close()
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


def test_the_teacher_prepares_the_same_rows_with_its_work_in_worker_processes(
        teacher_data_dir, tmp_path, monkeypatch):
    """distil's worker paths (the C search, the teacher of sentences, the labelling) forced on
    for tiny data: the prepared rows and targets are the ones a single process gives, and no
    worker process is left."""
    config = TrainConfig(limit=60, vocab_size=30, max_len=12)

    def prepared(folder):
        folder.mkdir()
        _, (x, y), _ = prepare(config, teacher_data_dir, folder=folder, source=Source(),
                               teacher=True)
        return x[np.arange(len(x))], np.asarray(y)

    alone = prepared(tmp_path / "alone")
    workers_on(monkeypatch)
    end_joblibs_workers()
    before = children()
    shared = prepared(tmp_path / "shared")
    np.testing.assert_array_equal(shared[0], alone[0])
    np.testing.assert_array_equal(shared[1], alone[1])
    assert len(alone[1]) > 48  # the teacher's rows are there
    end_joblibs_workers()
    assert not children() - before  # the teacher of sentences' and the labelling's ended
