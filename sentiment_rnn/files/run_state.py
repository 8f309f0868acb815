"""A run's state.json, checked field by field before anything trusts it.

state.json is the commit point of each epoch (see runs.py): last finished epoch, best epoch,
early-stopping count, history, the checkpoint's name, the sha256 of the model files and, under
settings_sha256, of config.json and vocab.txt (absent in runs written by 0.3.0 and earlier).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sentiment_rnn.config import LIMITS
from sentiment_rnn.errors import RunFolderError

STATE_FIELDS = {"epoch": int, "best_epoch": int, "wait": int, "completed": bool,
                "history": list, "checkpoint": str, "sha256": dict, "pending": dict,
                "settings_sha256": dict,
                "best_val_accuracy": (float, int, type(None)),
                "best_val_loss": (float, int, type(None))}
HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
SETTINGS_FILES = ("config.json", "vocab.txt")  # sorted


def check_state(state: object, run_dir: Path) -> dict:
    """state.json as training wrote it, or a RunFolderError naming the first field that is not."""
    def bad(why: str) -> RunFolderError:
        return RunFolderError(f"{run_dir}: state.json is invalid ({why})")

    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value)

    if not isinstance(state, dict):
        raise bad("not a JSON object")
    for name, kind in STATE_FIELDS.items():
        value = state.get(name)
        if name in state and (not isinstance(value, kind) or
                              (kind is int and isinstance(value, bool))):
            raise bad(f"{name} is {json.dumps(value)[:40]}")
    for name in ("sha256", "pending"):
        for key, digest in state.get(name, {}).items():
            if key not in ("model.keras", "weights.npz") or not isinstance(digest, str):
                raise bad(f"{name} has {json.dumps(key)[:40]}: {json.dumps(digest)[:70]}")
    settings = state.get("settings_sha256")
    if settings is not None and (sorted(settings) != list(SETTINGS_FILES) or not all(
            isinstance(d, str) and len(d) == 64 for d in settings.values())):
        raise bad(f"settings_sha256 is {json.dumps(settings)[:70]}")
    checkpoint = state.get("checkpoint")
    if checkpoint is not None and (Path(checkpoint).name != checkpoint or
                                   not checkpoint.startswith("checkpoint-")):
        raise bad(f"checkpoint is {json.dumps(checkpoint)[:60]}")
    epoch = state.get("epoch", 0)
    if not 0 <= epoch <= LIMITS["epochs"]:
        raise bad(f"epoch is {str(epoch)[:40]}")
    if not 0 <= state.get("best_epoch", 0) <= epoch or not 0 <= state.get("wait", 0) <= epoch:
        raise bad("best_epoch or wait is not one of the finished epochs")
    if state.get("best_epoch") and not (number(state.get("best_val_accuracy"))
                                        and number(state.get("best_val_loss"))):
        raise bad("best_val_accuracy and best_val_loss must be numbers once an epoch is best")
    history = state.get("history", [])
    if "history" in state and len(history) != epoch:
        raise bad(f"history has {len(history)} rows for {epoch} finished epochs")
    for i, row in enumerate(history, 1):
        if not (isinstance(row, dict) and row.get("epoch") == i and
                all(number(row.get(k)) for k in HISTORY_KEYS)):
            raise bad(f"history row {i} is not epoch {i} with {', '.join(HISTORY_KEYS)}")
    return state
