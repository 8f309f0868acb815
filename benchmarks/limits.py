"""Print the `inspect` traces that docs/limits.md ("What this model cannot do") shows.

Every trace in that page is this script's output for the run given (default models/latest),
pasted unchanged, so the page can be remade after any change of the default:

    python benchmarks/limits.py [--model models/latest] > /tmp/limits-traces.md

What every trace would repeat (the model's path, P(positive) before any word, what the IG
column is, and the integrated-gradients completeness check) is printed once, at the top; a
trace whose check fails stops the script.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from click.testing import CliRunner

from sentiment_rnn.cli.commands import main as cli

LONG_MIDDLE = ("The plot follows a detective and his partner through the city as they "
               "question witnesses, read old letters and drive from one house to the next. ")
CASES = {
    "negation": ["This movie is good.", "This movie is not good.", "Not great.",
                 "Not bad at all."],
    "sarcasm": ["Oh great, another masterpiece. I could hardly stay awake.",
                "Brilliant. Just brilliant. I fell asleep twice."],
    "but": ["The acting was great but the story was boring.",
            "The story was boring but the acting was great."],
    "other languages": ["Ein schrecklicher Film, langweilig und dumm."],
    "numbers": ["I give it 7/10.", "10/10, would watch again."],
    "long": ["A masterpiece: the best film of the year, moving and brilliant. "
             + LONG_MIDDLE * 30 + "It ends."],
}


IG_LINE = "IG (logit): "
CHECK = re.compile(r"^Completeness: .* off by ([0-9.]+)% \((ok|NOT[^,]*), ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/latest"))
    args = parser.parse_args()
    runner = CliRunner()
    header, errors, out = [], [], []
    for case, texts in CASES.items():
        out.append(f"## {case}\n")
        for text in texts:
            result = runner.invoke(cli, ["inspect", "--model", str(args.model), text])
            if result.exit_code != 0:
                sys.exit(result.output)
            lines = result.output.splitlines()
            header = header or lines[:2]  # the model's path and prior: said once
            lines, kept = lines[3:], []
            for line in lines:
                check = CHECK.match(line)
                if check and check.group(2) != "ok":
                    sys.exit(f"{text}: {line}")
                if check:
                    errors.append(float(check.group(1)))
                elif line.startswith(IG_LINE):
                    header = header[:2] + [line]
                else:
                    kept.append(line)
            shown = text if len(text) < 120 else f"{text[:100]}... ({len(text.split())} words)"
            out.append(f"$ sentiment-rnn inspect \"{shown}\"\n```")
            out.append("\n".join(kept if case != "long" else kept[:5] + ["   ..."] + kept[-6:]))
            out.append("```\n")
    print("\n".join(header))
    if errors:
        print(f"Completeness of IG: ok on all {len(errors)} traces (largest error "
              f"{max(errors):.2f}%)")
    print()
    print("\n".join(out))


if __name__ == "__main__":
    main()
