"""What installing sentiment-rnn costs: seconds for a fresh venv and `pip install -e`, and its size.

Times `python -m venv` and then `pip install --quiet --no-cache-dir -e <repo>` into it (so every
dependency, TensorFlow included, is fetched from the package index again, as on a first install;
the time depends on that index's speed), then measures the venv's size on disk with `du -sk`.
The venv is deleted afterwards.

    python benchmarks/install.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return time.perf_counter() - started


def measure_install(repo: Path = REPO, keep: bool = False) -> dict:
    """Seconds to create the venv, seconds to install into it, and its size in MB."""
    folder = Path(tempfile.mkdtemp(prefix="sentiment-rnn-install-"))
    venv = folder / "venv"
    try:
        venv_s = _timed([sys.executable, "-m", "venv", str(venv)])
        pip_s = _timed([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--no-cache-dir", "-e", str(repo)])
        du = subprocess.run(["du", "-sk", str(venv)], capture_output=True, text=True, check=True)
        size_mb = int(du.stdout.split()[0]) / 1024
        packages = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list",
                                   "--format=json"], capture_output=True, text=True, check=True)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return {"venv_seconds": venv_s, "pip_seconds": pip_s, "size_mb": size_mb,
            "packages": len(json.loads(packages.stdout)), "venv": str(venv) if keep else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the venv and print its path")
    args = parser.parse_args()
    print(json.dumps(measure_install(keep=args.keep)))


if __name__ == "__main__":
    main()
