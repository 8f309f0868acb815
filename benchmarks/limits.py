"""Print the `inspect` traces that docs/limits.md ("What this model cannot do") shows.

Every trace in that page is this script's output for the run given (default models/latest),
pasted unchanged, so the page can be remade after any change of the default:

    python benchmarks/limits.py [--model models/latest] > /tmp/limits-traces.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from click.testing import CliRunner

from sentiment_rnn.cli.commands import main as cli

LONG_MIDDLE = ("The plot follows a detective and his partner through the city as they "
               "question witnesses, read old letters and drive from one house to the next. ")
CASES = {
    "negation": ["This movie is good.", "This movie is not good.", "Not bad at all."],
    "sarcasm": ["Oh great, another masterpiece. I could hardly stay awake.",
                "What a wonderful way to waste two hours."],
    "but": ["The acting was great but the story was boring.",
            "The story was boring but the acting was great."],
    "other languages": ["Un film magnifique, j'ai adoré chaque minute.",
                        "Ein schrecklicher Film, langweilig und dumm."],
    "numbers": ["I give it 7/10.", "2/10.", "10/10, would watch again."],
    "long": ["A masterpiece: the best film of the year, moving and brilliant. "
             + LONG_MIDDLE * 30 + "It ends."],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/latest"))
    args = parser.parse_args()
    runner = CliRunner()
    for case, texts in CASES.items():
        print(f"## {case}\n")
        for text in texts:
            result = runner.invoke(cli, ["inspect", "--model", str(args.model), text])
            if result.exit_code != 0:
                sys.exit(result.output)
            shown = text if len(text) < 120 else f"{text[:100]}... ({len(text.split())} words)"
            print(f"$ sentiment-rnn inspect \"{shown}\"\n```")
            lines = result.output.splitlines()[3:]  # the model's path and prior: said once
            print("\n".join(lines if case != "long" else lines[:6] + ["   ..."] + lines[-12:]))
            print("```\n")


if __name__ == "__main__":
    main()
