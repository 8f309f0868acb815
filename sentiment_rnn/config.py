"""Settings for every stage (tokens -> ids -> model -> training), as one dataclass.

A `TrainConfig` is saved as `config.json` in each run folder and rebuilt from it with
`TrainConfig.from_dict`, so a saved model can always be rebuilt from what was saved with it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from dataclasses import dataclass, fields

from sentiment_rnn.errors import ConfigError

VOCAB_METHODS = ("label-aware", "pair-aware", "frequency")
# the recurrent layer: SimpleRNN (the seed's, the default), GRU (Keras' reset_after=True) or LSTM
CELLS = ("simple", "gru", "lstm")
CELL_NAMES = {"simple": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}  # Keras' names, for display
# who labels the unlabelled texts: TF-IDF + logistic regression, its features scaled by
# naive-Bayes ratios (tfidf-nb) or not (tfidf); none: no teacher
TEACHERS = ("tfidf-nb", "tfidf", "none")
DEFAULT_EMA = 0.99  # the weight average's momentum when a teacher is used
# the label-aware vocabulary's df power, by whether a teacher is used (measured in
# docs/levers.md)
DF_POWER = {"teacher": 0.75, "none": 0.5}
# settings added in 0.3.0, as a run saved without them was trained
BEFORE_0_3 = {"teacher": "none", "ema_momentum": None, "vocab_df_power": 0.5}
# settings added in 0.5.0, as a run saved without them was trained
BEFORE_0_5 = {"vocab_keep": (), "teacher_sentences": 0, "labelled_sentences": False,
              "vocab_unit": "review"}
# settings added in 0.6.0, as a run saved without them was trained
BEFORE_0_6 = {"jit_compile": False}
# what the label-aware vocabulary counts as a document: each text, or each of its sentences
VOCAB_UNITS = ("review", "sentence")
# words a person expects a sentiment model to read, kept in the vocabulary whatever their
# score (those that occur in the training part): negations and contrasts, whose meaning is in
# the words around them, and the plain words of a verdict. `good` is in about as many negative
# as positive IMDB reviews ("not good"), so a label-aware score alone leaves it out
# (docs/levers.md)
EVERYDAY_WORDS = (
    "not", "no", "never", "nothing", "none", "nobody", "nor", "neither", "without", "hardly",
    "barely", "but", "however", "although", "though", "yet", "despite", "dont", "didnt",
    "doesnt", "isnt", "wasnt", "arent", "werent", "cant", "couldnt", "wont", "wouldnt",
    "good", "bad", "great", "best", "worst", "better", "worse", "boring", "love", "loved",
    "hate", "hated", "like", "liked", "enjoy", "enjoyed", "fun", "funny", "waste", "awful",
    "terrible", "excellent", "amazing", "wonderful", "perfect", "poor", "dull", "recommend",
    "brilliant", "beautiful", "fantastic", "horrible", "stupid", "disappointing", "very",
    "really", "too", "all")
MAX_PARAMETERS = 50_000_000  # model weights: beyond them a run would not fit in memory


@dataclass(frozen=True)
class Bound:
    """A numeric setting's range: whole numbers (int) or numbers (float) from `low` to `high`
    (None: no top), either end open (excluded); `optional`: None is accepted too."""

    kind: type
    low: float
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False

    def check(self, name: str, value: object) -> None:
        """Raise ConfigError, one line, unless `value` is in range."""
        if value is None and self.optional:
            return
        if self.kind is int:
            if not _is_int(value) or value < self.low:
                raise ConfigError(f"{name} must be a whole number >= {self.low}, got {value!r}")
            if self.high is not None and value > self.high:
                raise ConfigError(f"{name} must be at most {self.high:,}, got {value!r}")
            return
        low, high = self.low, self.high
        inside = _is_number(value) and (low < value if self.low_open else low <= value) and (
            value < high if self.high_open else value <= high)  # NaN is never inside
        if not inside:
            span = {(True, True): f"between {low:g} and {high:g}",
                    (True, False): f"> {low:g} and at most {high:g}",
                    (False, True): f"from {low:g} to below {high:g}",
                    (False, False): f"from {low:g} to {high:g}"}[self.low_open, self.high_open]
            raise ConfigError(f"{name} must be a number {span}, got {value!r}")


# the one home of every numeric setting's range: TrainConfig checks it and the command line's
# option types are built from it; the tops keep a run within memory and time
BOUNDS = {
    "vocab_size": Bound(int, 3, 1_000_000),  # padding, out of vocabulary and one word
    "max_len": Bound(int, 1, 100_000),
    "embed_dim": Bound(int, 1, 4096),
    "units": Bound(int, 1, 4096),
    "dropout": Bound(float, 0, 1, high_open=True),
    "recurrent_dropout": Bound(float, 0, 1, high_open=True),
    "vocab_df_power": Bound(float, 0, 2, optional=True),
    "teacher_sentences": Bound(int, 0, 1000),
    "epochs": Bound(int, 1, 10_000),
    "batch_size": Bound(int, 1, 65_536),
    "learning_rate": Bound(float, 0, 10, low_open=True),
    "clipnorm": Bound(float, 0, 1e6, low_open=True),
    "ema_momentum": Bound(float, 0, 1, high_open=True, optional=True),  # 0 is off
    "patience": Bound(int, 1, 10_000),
    "validation_fraction": Bound(float, 0, 1, low_open=True, high_open=True),
    "seed": Bound(int, 0, 2**32 - 1),
    "limit": Bound(int, 2, optional=True),
}
LIMITS = {name: bound.high for name, bound in BOUNDS.items()}  # the tops, by name
# largest run files read (bytes): config.json, state.json and vocab.txt are small text files;
# weights.npz and model.keras are bounded by the parameter count (Run.file_limit)
FILE_LIMITS = {"config.json": 1 << 20, "state.json": 16 << 20, "vocab.txt": 64 << 20}
MAX_JOBS = 64  # predict --jobs: more processes than this only add start-up time and memory


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at most MAX_JOBS: predict's
    default --jobs."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS, Windows)
        count = os.cpu_count() or 1
    return max(1, min(count, MAX_JOBS))


@dataclass(frozen=True)
class TrainConfig:
    # data
    dataset: str = "imdb_reviews"  # tensorflow-datasets dataset to train on (its train split)
    data: str | None = None  # a labelled file to train on instead (CSV, TSV or JSON Lines)
    validation_data: str | None = None  # a labelled file for model selection; else part of data
    text_column: str | None = None  # the data file's text column; else a common name
    label_column: str | None = None  # the data file's label column; else a common name
    positive: tuple = ()  # label values read as positive (with negative); else 0/1, neg/pos
    negative: tuple = ()  # label values read as negative
    unlabelled: str | None = None  # a file of unlabelled texts for the teacher (with data)
    teacher: str = "tfidf-nb"  # labels unlabelled texts for the RNN to learn from; "none": off
    teacher_sentences: int = 2  # also this many sentences of each unlabelled text, labelled
    # by the teacher on their own (the RNN learns to read a sentence); 0: whole texts only
    labelled_sentences: bool = True  # with teacher_sentences: the teacher also learns from
    # that many sentences of each training text (with its label) and labels them for the RNN
    # text -> ids
    vocab_size: int = 1000  # vocabulary entries, including 0 = padding and 1 = out of vocabulary
    vocab_method: str = "label-aware"  # how the words are chosen: "label-aware" or "frequency"
    vocab_df_power: float | None = None  # label-aware: |log-odds| x doc. frequency ** this;
    # None: 0.75 with a teacher, 0.5 without (docs/levers.md)
    vocab_unit: str = "review"  # label-aware: count documents as "review"s or "sentence"s
    vocab_keep: tuple = EVERYDAY_WORDS  # words kept whatever their score, if in the training
    # part; () keeps none
    max_len: int = 200  # tokens per review; longer reviews keep their last max_len tokens
    drop_oov: bool = True  # drop out-of-vocabulary tokens (True) or map them to id 1 (False)
    # model
    cell: str = "simple"  # the recurrent layer: "simple" (SimpleRNN), "gru" or "lstm"
    embed_dim: int = 32  # width of the word embedding, x_t
    units: int = 32  # width of the recurrent layer's hidden state, h_t
    dropout: float = 0.0  # training-only dropout on x_t inside the recurrent layer
    recurrent_dropout: float = 0.0  # training-only dropout on h_{t-1} inside the recurrent layer
    # optimisation
    epochs: int = 10  # most epochs; early stopping usually ends sooner
    batch_size: int = 128  # reviews per gradient step
    length_buckets: bool = True  # batch reviews of similar length together (faster, same model)
    jit_compile: bool = True  # compile each training step with XLA, batches padded to a few
    # widths (nn.batching.JIT_WIDTHS); False: TensorFlow's graph, each batch trimmed to its longest
    learning_rate: float = 1e-3  # Adam step size
    clipnorm: float = 1.0  # gradient clipping by norm; a SimpleRNN on IMDB swings without it
    ema_momentum: float | None = None  # average of the weights; None: 0.99 with a teacher, else off
    patience: int = 2  # epochs without a better validation accuracy before stopping
    validation_fraction: float = 0.2  # last part of the train split used for model selection
    # every random choice of the run is drawn from (seed, its purpose): a data file's
    # validation shuffle, the teacher's held-out slice, the starting weights, each epoch's
    # batch order and dropout masks; no process-wide random state is seeded. Same seed, same
    # run on one machine (TensorFlow's op determinism is on while training)
    seed: int = 42
    limit: int | None = None  # use only the first `limit` training reviews (quick tries)

    def __post_init__(self) -> None:
        for name, bound in BOUNDS.items():
            bound.check(name, getattr(self, name))
        if self.parameters > MAX_PARAMETERS:
            raise ConfigError(f"the model would have {self.parameters:,} weights (vocab_size x "
                              f"embed_dim + embed_dim x units + units x units + ...); at most "
                              f"{MAX_PARAMETERS:,}")
        for name, allowed in (("vocab_method", VOCAB_METHODS), ("teacher", TEACHERS),
                              ("cell", CELLS), ("vocab_unit", VOCAB_UNITS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, "
                                  f"got {getattr(self, name)!r}")
        for name in ("drop_oov", "length_buckets", "labelled_sentences", "jit_compile"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.dataset, str) or not re.fullmatch(r"[\w.-]+(/[\w.-]+)*(:[\w.]+)?",
                                                                 self.dataset):
            raise ConfigError(f"dataset must be a tensorflow-datasets name, got "
                              f"{self.dataset!r}")
        for name in ("data", "validation_data", "text_column", "label_column", "unlabelled"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{name} must be a non-empty text, got {value!r}")
        check_sources(self.data, self.validation_data, self.unlabelled, self.teacher)
        for name in ("positive", "negative"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) and v.strip()
                                                       for v in value):
                raise ConfigError(f"{name} must be label values, got {value!r}")
        check_words(self.vocab_keep)

    @property
    def parameters(self) -> int:
        """The model's weight count: Embedding, the recurrent layer, Dense (W_hy, b_y). A
        SimpleRNN has W_xh, W_hh, b_h; a GRU three such blocks with two biases each (Keras'
        reset_after=True); an LSTM four blocks with one bias each."""
        e, u = self.embed_dim, self.units
        block = e * u + u * u
        recurrent = {"simple": block + u, "gru": 3 * (block + 2 * u),
                     "lstm": 4 * (block + u)}.get(self.cell, block + u)
        return self.vocab_size * e + recurrent + u + 1

    @property
    def df_power(self) -> float:
        """The label-aware vocabulary's document-frequency power in use."""
        if self.vocab_df_power is None:
            return DF_POWER["none" if self.teacher == "none" else "teacher"]
        return float(self.vocab_df_power)

    @property
    def ema(self) -> float:
        """The weight average's momentum in use: 0 is off."""
        if self.ema_momentum is None:
            return DEFAULT_EMA if self.teacher != "none" else 0.0
        return float(self.ema_momentum)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> TrainConfig:
        """Rebuild from `to_dict()` output, refusing unknown keys and bad values."""
        if not isinstance(data, dict):
            raise ConfigError(f"configuration must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown configuration keys: {', '.join(unknown)}")
        data = {k: tuple(v) if k in ("positive", "negative", "vocab_keep") and isinstance(v, list)
                else v for k, v in data.items()}
        data = {**BEFORE_0_3, **BEFORE_0_5, **BEFORE_0_6, **data}  # as a run saved before them trained
        try:
            return cls(**data)
        except TypeError as exc:  # should not happen once keys are known; kept one-line anyway
            raise ConfigError(str(exc)) from None

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def check_words(words: object) -> None:
    """vocab_keep: a tuple of distinct single tokens as the tokenizer writes them (lower case,
    no punctuation). More than the vocabulary holds is fine: the best-scored of them are kept."""
    if not isinstance(words, tuple) or not all(isinstance(w, str) for w in words):
        raise ConfigError(f"vocab_keep must be a list of words, got {words!r}")
    for word in words:  # what text/tokenizer.py leaves of a word: NFKC, lower case, no marks
        if not re.fullmatch(r"[^\W_]+", word) or unicodedata.normalize("NFKC", word).lower() \
                != word:
            raise ConfigError(f"vocab_keep: {word!r} is not one word as the tokenizer reads "
                              f"it (lower case letters and digits, no apostrophe: dont)")
    if len(set(words)) != len(words):
        raise ConfigError("vocab_keep names a word twice")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_sources(data, validation_data, unlabelled, teacher: str) -> None:
    """The rules between the data settings, one home for TrainConfig and `train`'s options:
    a validation file or unlabelled texts need a training file, and unlabelled texts a teacher.
    (The --positive/--negative pair is files.columns.check_label_pair.)"""
    if validation_data is not None and data is None:
        raise ConfigError("--validation-data needs --data FILE")
    if unlabelled is not None and data is None:
        raise ConfigError("--unlabelled needs --data FILE (IMDB brings its own unlabelled "
                          "reviews)")
    if unlabelled is not None and teacher == "none":
        raise ConfigError("--unlabelled is for the teacher; drop it or --teacher none")
