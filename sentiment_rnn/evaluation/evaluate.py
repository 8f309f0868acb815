"""Probabilities -> evaluation: metrics, breakdowns by length and vocabulary, baselines beside.

    text -> tokens -> ids -> model -> probability -> metrics (scikit-learn), accuracy by length,
                                                     out-of-vocabulary share, baselines

`run_evaluation` scores a saved run on the IMDB test split or on a user's labelled file;
`reports.py` writes what it finds to metrics.json and pictures. The test split is read only here,
never during training or model selection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sentiment_rnn.evaluation.metrics import finite, format_table, length_buckets, metrics
from sentiment_rnn.nn.verdict import is_positive
from sentiment_rnn.text.tokenizer import tokenize

@dataclass
class Evaluation:
    source: str  # what was scored, for the table's heading
    labels: np.ndarray  # (n,) 1 = positive
    probs: np.ndarray  # (n,) P(positive) from the run
    metrics: dict  # evaluate.metrics
    by_length: list[dict] | None = None  # length_buckets, for a user's file
    oov: dict | None = None  # out-of-vocabulary tokens, for a user's file
    baselines: list = field(default_factory=list)  # (baselines.Baseline, its metrics)
    skipped: int = 0  # malformed rows skipped with --skip-bad
    unknown: int = 0  # texts none of whose words the model knows (scored at its prior)
    left_out: dict = field(default_factory=dict)  # label value -> rows left out (--positive)

    def to_json(self) -> dict:
        """The metrics, plus what else was computed; NaN written as null."""
        out = dict(self.metrics)
        out["unknown_texts"] = self.unknown
        if self.by_length is not None:
            out.update(by_length=self.by_length, oov=self.oov, skipped_rows=self.skipped,
                       left_out=sum(self.left_out.values()),
                       left_out_labels=dict(sorted(self.left_out.items())))
        if self.baselines:
            out["baselines"] = {b.key: {"name": b.name, **b.details, "metrics": m}
                                for b, m in self.baselines}
        return finite(out)

    def format(self) -> str:
        parts = [format_table(self.metrics)]
        if self.unknown:
            parts.append(f"{self.unknown:,} text(s) have no word in the model's vocabulary; "
                         f"they are scored at the model's prior P(positive)")
        if self.by_length is not None:
            lines = ["accuracy by review length", f"{'tokens':<8} {'reviews':>8} {'accuracy':>8}"]
            lines += [f"{r['tokens']:<8} {r['reviews']:>8,} {r['accuracy']:>8.4f}"
                      for r in self.by_length]
            o = self.oov
            lines += ["", f"out-of-vocabulary tokens: {o['share']:.2%} "
                          f"({o['tokens']:,} of {o['total']:,})"]
            parts.append("\n".join(lines))
        if self.baselines:
            rows = [("RNN (this model)", self.metrics)] + [(b.name, m) for b, m in self.baselines]
            w = max(len(name) for name, _ in rows)
            lines = ["baselines on the same data (trained on the run's training part)",
                     f"{'model':<{w}} {'accuracy':>8} {'f1':>6} {'roc auc':>7} {'loss':>6}"]
            lines += [f"{name:<{w}} {m['accuracy']:>8.4f} {m['f1']:>6.4f} {m['auc']:>7.4f} "
                      f"{m['loss']:>6.4f}" for name, m in rows]
            parts.append("\n".join(lines))
        return "\n\n".join(parts)


def _evaluate_texts(run_dir, texts: list[str], labels: np.ndarray, source: str,
                   backend: str | None = None, data_dir=None, breakdown: bool = True,
                   with_baselines: bool = False) -> Evaluation:
    """Score the run on labelled texts; with breakdown, by length and OOV share; with
    with_baselines, the baselines too (they read the IMDB train split from data_dir)."""
    from sentiment_rnn.prediction.predictor import Predictor, reads_a_word

    predictor = Predictor(run_dir, backend)
    if with_baselines:  # before any scoring: the data they learn from is the run's
        from sentiment_rnn.evaluation.baselines import check_training_data

        check_training_data(predictor.run)
    labels = np.asarray(labels)
    tokens = [tokenize(t) for t in texts]  # once, for the ids and the breakdowns
    ids = predictor.ids_of_tokens(tokens)  # (texts, longest): what the RNN and baselines read
    probs = predictor.predict_ids(ids)
    ev = Evaluation(source, labels, probs, metrics(labels, probs))
    index = predictor.run.vocab.index
    ev.unknown = int((~reads_a_word(ids)).sum())  # the same rule as predict's unknown
    if breakdown:
        n_tokens = np.array([len(t) for t in tokens])
        ev.by_length = length_buckets(n_tokens, is_positive(probs) == (labels == 1))
        oov = sum(1 for ts in tokens for t in ts if t not in index)
        total = int(n_tokens.sum())
        ev.oov = {"tokens": oov, "total": total, "share": oov / total if total else 0.0}
    if with_baselines:
        from sentiment_rnn.evaluation.baselines import baselines

        ev.baselines = [(b, metrics(labels, b.probs))
                        for b in baselines(predictor.run, texts, ids, data_dir)]
    return ev


def run_evaluation(run_dir, data_file=None, skip_bad: bool = False, data_dir=None,
                   backend: str | None = None, with_baselines: bool = False,
                   input_format: str = "auto", limit: int | None = None,
                   text_column: str | None = None, label_column: str | None = None,
                   positive: tuple = (), negative: tuple = ()) -> Evaluation:
    """`_evaluate_texts` on a user's labelled file (with the length and OOV breakdown), or on
    the test split of the run's dataset when there is none. Columns and label values default
    to those the run was trained with."""
    from sentiment_rnn.config import TrainConfig
    from sentiment_rnn.errors import RunFolderError
    from sentiment_rnn.files.columns import check_label_pair
    from sentiment_rnn.files.run_folder import load_run

    check_label_pair(positive, negative)  # given: both, else the run's own label values
    try:
        cfg = load_run(run_dir).config
    except RunFolderError:  # said once the model is needed; the data's own errors come first
        if data_file is None:
            raise
        cfg = TrainConfig()
    if data_file is None:
        from sentiment_rnn.data.imdb import load_split

        texts, labels = load_split("test", data_dir, dataset=cfg.dataset)
        name = "IMDB test split" if cfg.dataset == "imdb_reviews" else \
            f"{cfg.dataset} test split"
        return _evaluate_texts(run_dir, texts, labels, name, backend, data_dir,
                              breakdown=False, with_baselines=with_baselines)
    from sentiment_rnn.files.columns import Columns, LabelMap, data_line
    from sentiment_rnn.files.readers import RECORD_LIMIT, read_labelled

    columns = Columns(text_column or cfg.text_column, label_column or cfg.label_column)
    labels = LabelMap(positive, negative) if positive else LabelMap(cfg.positive, cfg.negative)
    found = read_labelled(data_file, skip_bad, input_format, limit or RECORD_LIMIT, columns,
                          labels)
    source = data_line(found)  # train prints what it read by the same rule
    ev = _evaluate_texts(run_dir, found.texts, found.labels, source, backend, data_dir,
                        breakdown=True, with_baselines=with_baselines)
    ev.skipped, ev.left_out = found.skipped, dict(found.other_labels)
    return ev
