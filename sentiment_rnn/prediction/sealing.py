"""Re-seal a run folder changed on purpose: check that its files load, then record the sha256 of
its model files, config.json and vocab.txt in state.json, so that predict, evaluate, inspect,
serve and --resume trust them again.

Loading refuses a model file whose sha256 differs from state.json's, or that state.json does
not record (state.json deleted), and a config.json or vocab.txt whose sha256 differs from
state.json's settings_sha256: an edit is never trusted silently. `sentiment-rnn seal RUN_DIR`
(or `sr.seal(run_dir)`) is the explicit way to say "these files are mine". It seals only what
loads: config.json and vocab.txt consistent, weights.npz and model.keras as their loaders accept
them (shapes, floating-point, finite; model.keras with safe_mode on). The bytes checked are the
bytes whose sha256 is recorded.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.atomic import read_bytes, write_json_atomic
from sentiment_rnn.nn.numpy_cells import load_numpy
from sentiment_rnn.files.run_dirs import RunLock
from sentiment_rnn.files.run_folder import Run, check_size, load_run


@dataclass
class Sealed:
    run_dir: Path
    sha256: dict[str, str]  # file name -> sha256 now recorded in state.json (all four files)
    notes: list[str] = field(default_factory=list)  # e.g. the two files hold other weights


class _Candidate(Run):
    """The run, with the bytes being checked standing in for its model files."""

    files: dict

    def read_verified(self, path: Path) -> bytes:
        return self.files[Path(path).name]


def seal(run_dir: str | os.PathLike) -> Sealed:
    """Check that the run's config.json, vocab.txt and model files load, then record their
    sha256 in state.json (the rest of state.json is kept; a missing one is created). Holds the
    run's lock, so a run that is training is refused."""
    run = load_run(run_dir, verify=False)  # checked as loaded: the digests are of those bytes
    with RunLock(run.path):
        state = run.state()  # an invalid state.json is named; delete it to start afresh
        files = {}
        for path in (run.weights_file, run.model_file):
            if path.exists() or path.is_symlink():
                files[path.name] = read_bytes(check_size(path, run.file_limit(path.name)))
        if not files:
            raise RunFolderError(f"{run.path}: has neither weights.npz nor model.keras; "
                                 f"nothing to seal")
        candidate = _Candidate(run.path, run.config, run.vocab, run.settings)
        candidate.files = files
        notes = _check(candidate, files)
        digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        state = {k: v for k, v in state.items() if k != "pending"}
        write_json_atomic(run.state_file, {**state, "sha256": digests,
                                           "settings_sha256": run.settings})
    return Sealed(run.path, {**digests, **run.settings}, notes)


def _check(run: _Candidate, files: dict) -> list[str]:
    """Load every model file as predict would; RunFolderError names the first that fails."""
    cfg = run.config
    arrays = None
    if "weights.npz" in files:
        arrays = load_numpy(run.weights_file, cfg, data=files["weights.npz"]).arrays
    if "model.keras" not in files:
        return []
    from sentiment_rnn.nn.keras_model import weight_arrays
    from sentiment_rnn.prediction.keras_backend import load_keras_model

    keras_arrays = weight_arrays(load_keras_model(run))
    if arrays is not None and (set(arrays) != set(keras_arrays) or not all(
            np.array_equal(arrays[n], keras_arrays[n].astype(np.float64)) for n in arrays)):
        return ["weights.npz and model.keras hold different weights: the numpy and keras "
                "backends will give different probabilities"]
    return []
