"""The page's Memory panel: how far back the served model remembers, measured once per start.

    GET /api/memory?start=true (the page's button) -> one child process: `sentiment-rnn
    inspect --memory --json --reviews 200` -> its JSON kept in memory -> GET /api/memory reads it

The measurement reads the run's validation reviews again, which for a tfds run imports
TensorFlow (tensorflow-datasets); the server never does, so it runs in a child process. Bounded:
one child per server start, started by the first request that asks (never at start-up, nor by
loading the page), PANEL_REVIEWS reviews, killed after TIMEOUT seconds; every other request only
reads the state, so no request can start more work. A run whose validation texts cannot be read here (no dataset offline, a file moved)
gets the child's one-line error, shown by the panel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

PANEL_REVIEWS = 200
TIMEOUT = 600  # seconds the child may take


class MemoryPanel:
    """The one measurement of a served run: idle -> computing -> done | unavailable."""

    def __init__(self, run_dir: Path, data_dir: str | None = None,
                 reviews: int = PANEL_REVIEWS):
        self.run_dir, self.data_dir, self.reviews = Path(run_dir), data_dir, reviews
        self._lock = threading.Lock()
        self._state = {"status": "idle", "reviews": reviews, "report": None, "error": None}

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "sentiment_rnn", "inspect", "--model", str(self.run_dir),
               "--memory", "--json", "--reviews", str(self.reviews)]
        return cmd + (["--data-dir", str(self.data_dir)] if self.data_dir else [])

    def state(self, start: bool = False) -> dict:
        """The panel's state; `start` begins the measurement in the background, once."""
        with self._lock:
            if start and self._state["status"] == "idle":
                self._state["status"] = "computing"
                threading.Thread(target=self._measure, daemon=True).start()
            return dict(self._state)

    def _measure(self) -> None:
        try:
            done = subprocess.run(self.command(), capture_output=True, text=True,
                                  timeout=TIMEOUT, stdin=subprocess.DEVNULL)
            if done.returncode == 0:
                result = {"status": "done", "report": json.loads(done.stdout)}
            else:
                lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
                result = {"status": "unavailable", "error": lines[-1].removeprefix("Error: ")}
        except subprocess.TimeoutExpired:
            result = {"status": "unavailable", "error": f"the measurement took over {TIMEOUT} s"}
        except (OSError, ValueError) as exc:
            result = {"status": "unavailable", "error": f"the measurement failed "
                                                         f"({type(exc).__name__})"}
        with self._lock:
            self._state.update(result)
