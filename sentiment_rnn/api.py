"""The Python face of the flow: `sr.load`, `sr.train`, `sr.evaluate`, for scripts and notebooks.

    text -> tokens -> ids -> NumPy forward pass -> P(positive)   (Model.predict, .classify)
                                               -> h_t per word   (Model.trace: dict, plot, HTML)

The same functions the command line calls, with the same checks. A loaded Model runs the NumPy
pass and never imports TensorFlow. Nothing prints unless asked (`progress=True`); training
leaves no process-wide setting changed and installs no signal handler outside the main thread.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.config import CELL_NAMES


class Trace:
    """How the network read one text: every word, the running P(positive) and h_t.

    `to_dict()` is the JSON of `sentiment-rnn inspect --json TEXT`; `plot()` a matplotlib
    Figure; in Jupyter the words show coloured by how much each moved P(positive)."""

    def __init__(self, report: dict):
        self._report = report

    def to_dict(self) -> dict:
        return self._report

    @property
    def probability(self) -> float | None:
        return self._report["probability"]

    @property
    def label(self) -> str:
        return self._report["label"]

    @property
    def attributions(self) -> list[tuple[str, float, float]]:
        """(word, gradient x input, integrated gradients) for each word read, in logit units;
        the completeness check is `to_dict()["attribution"]`."""
        return [(r["word"], r["grad_x_input"], r["integrated_gradients"])
                for r in self._report["tokens"] if r["status"] == "read"]

    def plot(self):
        from sentiment_rnn.evaluation.plots import trace_figure

        return trace_figure(self._report)

    def __repr__(self) -> str:
        p = self.probability
        return f"<Trace {self.label} {'-' if p is None else f'{p:.4f}'}: {len(self._report['tokens'])} words>"

    def _repr_html_(self) -> str:
        from sentiment_rnn.evaluation.plots import move_colour

        r = self._report
        prev, spans = r["start_probability"], []
        for row in r["tokens"]:
            word = html.escape(row["word"])
            if row["status"] != "read":
                why = "out of vocabulary, dropped" if row["status"] == "dropped" else \
                    "cut by max_len, not read"
                spans.append(f'<span title="{why}" style="color:#999;text-decoration:'
                             f'line-through">{word}</span>')
                continue
            change = row["probability"] - prev
            prev = row["probability"]
            red, green, blue, opacity = move_colour(change)  # the page's and plot()'s scale
            ig = row["integrated_gradients"]
            ig = "" if ig is None else f"; integrated gradients {ig:+.3f} (logit)"
            spans.append(f'<span title="P(positive) {row["probability"]:.3f} ({change:+.3f}){ig}" '
                         f'style="background:rgba({red},{green},{blue},{opacity:.3f});'
                         f'padding:1px 2px;border-radius:3px">{word}</span>')
        p = r["probability"]
        verdict = "unknown (no word the model knows)" if p is None else \
            f"{r['label']}, P(positive) = {p:.4f}"
        return (f'<div style="line-height:1.9">{" ".join(spans)}</div>'
                f"<div><b>{html.escape(verdict)}</b> &middot; green raised P(positive), red "
                f"lowered it; grey was not read</div>")


class Memory:
    """How far back a model remembers: `to_dict()` is `inspect --memory --json`; `plot()` a
    matplotlib Figure of both curves (log axis) and the probe; `half_lives` in words."""

    def __init__(self, report: dict):
        self._report = report

    def to_dict(self) -> dict:
        return self._report

    @property
    def half_lives(self) -> dict:
        r = self._report
        return {"gradient": r["gradient"]["half_life"],
                "leave_one_out": r["leave_one_out"]["half_life"]}

    def plot(self):
        from sentiment_rnn.evaluation.plots import memory_figure

        return memory_figure(self._report)

    def __repr__(self) -> str:
        h = {k: "-" if v is None else f"{v:.1f}" for k, v in self.half_lives.items()}
        return (f"<Memory over {self._report['reviews']} {self._report['source']}: half-life "
                f"{h['gradient']} words (gradient), {h['leave_one_out']} (leave-one-out)>")


class Model:
    """A trained run on the NumPy path: no TensorFlow is imported."""

    def __init__(self, run_dir: str | os.PathLike):
        from sentiment_rnn.prediction.predictor import Predictor

        self.run_dir = Path(run_dir)
        self._predictor = Predictor(self.run_dir, "numpy")
        self.run = self._predictor.run
        self.config = self.run.config
        self._loaded = (self.run, self._predictor.model)

    @property
    def weights(self):
        """The trained weights as float64 NumPy arrays, by the names of the equations:
        `.embedding`, `.W_xh`, `.W_hh`, `.b_h`, `.W_hy`, `.b_y` (a `NumpyRNN`)."""
        return self._predictor.model

    def ids(self, text: str) -> list[int]:
        """The ids the network reads for a text, in order: tokens looked up, out-of-vocabulary
        words dropped (or read as 1) and only the last max_len kept, as in training."""
        from sentiment_rnn.text.tokenizer import tokenize
        from sentiment_rnn.text.vocabulary import to_ids

        c = self.config
        return to_ids(tokenize(text), self.run.vocab, c.max_len, c.drop_oov)

    def predict(self, texts: str | Sequence[str]) -> np.ndarray:
        """P(positive) of each text; NaN for a text with no word the model knows."""
        return self._predictor.predict(_texts(texts))

    def classify(self, texts: str | Sequence[str], threshold: float = 0.5) -> list[str]:
        """positive, negative, or unknown (no word the model knows) for each text."""
        from sentiment_rnn.nn.verdict import UNKNOWN, label

        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
        return [UNKNOWN if np.isnan(p) else label(p, threshold) for p in self.predict(texts)]

    def trace(self, text: str, attributions: bool = True) -> Trace:
        """How the network read `text`; `attributions=False` skips the integrated gradients
        (a few to a few hundred backward passes) and leaves them None."""
        from sentiment_rnn.inspection.trace import trace

        return Trace(trace(self.run_dir, text, loaded=self._loaded, attributions=attributions))

    def overview(self) -> dict:
        """The weights, the spectral radius of W_hh and the top words (`inspect --json
        --check 0`)."""
        from sentiment_rnn.inspection.overview import overview

        return overview(self.run_dir, check=0, loaded=self._loaded)

    def memory(self, reviews: int = 1000, data_dir=None, probe: bool = True) -> Memory:
        """How far back the model remembers (`inspect --memory --json`), over the run's first
        `reviews` validation reviews: the mean |d logit / d x| and leave-one-out |dP| by
        distance k from the end, their half-lives and (with `probe`) the neutral-words probe.

        The validation reviews are the run's training data read again (about 20 s for IMDB).
        For a tfds run (IMDB) that read goes through tensorflow-datasets, which imports
        TensorFlow into this process; a run trained on a file (`data=`) does not."""
        from sentiment_rnn.inspection.memory import memory

        if isinstance(reviews, bool) or not isinstance(reviews, int) or reviews < 1:
            raise ValueError(f"reviews must be a whole number of at least 1, got {reviews!r}")
        return Memory(memory(self.run, self._predictor.model, reviews, data_dir, probe))

    def __repr__(self) -> str:
        c = self.config
        return (f"<Model {self.run_dir}: Embedding({c.vocab_size}, {c.embed_dim}) -> "
                f"{CELL_NAMES[c.cell]}({c.units}) -> Dense(1)>")


def _texts(texts: str | Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    texts = list(texts)
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be strings")
    return texts


def load(run_dir: str | os.PathLike | None = None) -> Model:
    """The run in `run_dir`, else models/latest, ready to predict with NumPy."""
    from sentiment_rnn.files.run_folder import resolve_run_dir

    return Model(resolve_run_dir(run_dir))


@dataclass
class TrainedRun:
    run_dir: Path
    history: list[dict]  # per epoch: loss, accuracy, val_loss, val_accuracy, seconds
    best_epoch: int
    best_val_accuracy: float
    completed: bool
    model: Model | None  # the best epoch's model, loaded (None if stopped before an epoch)


def train(data: str | os.PathLike | None = None, *, run_dir=None, data_dir=None,
          progress: bool = False, **settings) -> TrainedRun:
    """Train a run with the CLI's settings (`dataset=`, `epochs=`, `seed=`, `validation_data=`,
    `teacher="none"`, `unlabelled=` (a file, with `data`), `positive=`/`negative=` as
    "4,5", 5 or [4, 5], ...; see `TrainConfig`) on `data` (a labelled file), else the
    dataset. Prints nothing unless `progress=True`."""
    import json

    from sentiment_rnn.files.columns import check_label_pair, label_values
    from sentiment_rnn.config import TrainConfig
    from sentiment_rnn.training.train import train as run_training

    for name in ("positive", "negative"):  # "4,5", 5 or [4, 5], as the CLI reads them
        if name in settings:
            settings[name] = label_values(settings[name], name)
    check_label_pair(settings.get("positive", ()), settings.get("negative", ()))
    for name in ("validation_data", "unlabelled"):  # files: a path object is fine too
        if isinstance(settings.get(name), os.PathLike):
            settings[name] = os.fspath(settings[name])
    config = TrainConfig(data=None if data is None else str(data), **settings)
    result = run_training(config, run_dir, data_dir,
                          echo=print if progress else (lambda line: None),
                          verbose=None if progress else 0)
    history = json.loads((Path(result.run_dir) / "history.json").read_text()) \
        if (Path(result.run_dir) / "history.json").exists() else []
    model = Model(result.run_dir) if result.best_epoch else None
    return TrainedRun(Path(result.run_dir), history, result.best_epoch,
                      result.best_val_accuracy, result.completed, model)


def evaluate(model: Model | str | os.PathLike | None = None, data=None, *, data_dir=None,
             **options) -> dict:
    """The metrics `sentiment-rnn evaluate --json` prints: on `data` (a labelled file), else
    the run's test split. `options`: skip_bad, text_column, label_column, positive, negative,
    with_baselines."""
    from sentiment_rnn.files.columns import label_values
    from sentiment_rnn.evaluation.evaluate import run_evaluation
    from sentiment_rnn.files.run_folder import resolve_run_dir

    run_dir = model.run_dir if isinstance(model, Model) else resolve_run_dir(model)
    skip_bad = options.pop("skip_bad", False)
    with_baselines = options.pop("with_baselines", False)
    for name in ("positive", "negative"):
        if name in options:
            options[name] = label_values(options[name], name)
    return run_evaluation(run_dir, data, skip_bad, data_dir, "numpy", with_baselines,
                          **options).to_json()


def seal(run_dir: str | os.PathLike):
    """Trust a run folder's files as they are now, after changing them on purpose
    (`sentiment-rnn seal`): checks that they load, then records their sha256 in state.json.
    Returns a `Sealed` with the recorded `sha256` and `notes`."""
    from sentiment_rnn.prediction.sealing import seal as seal_run

    return seal_run(run_dir)
