"""One line per measured figure, in a form bench/run_all.py collects into docs/benchmarks.md.

Each benchmark prints its figures for a reader as it likes, and also calls `report` once per figure
it measures against a goal, so the summary is built from what was measured, never typed in by hand.
"""

import json

PREFIX = "BENCH-RESULT "


def report(bench: str, figure: str, value: str, goal: str, met: bool | None, command: str) -> None:
    """Print one figure: which benchmark, what was measured, its value and goal, whether it met it
    (None where the goal is informative only), and the command that measured it."""
    line = {"bench": bench, "figure": figure, "value": value, "goal": goal, "met": met, "command": command}
    print(PREFIX + json.dumps(line, ensure_ascii=False), flush=True)
