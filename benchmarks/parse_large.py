"""How parsing a large diagram grows: SpiffWorkflow's parser with certflow's one-pass id index.

    .venv/bin/python benchmarks/parse_large.py [--sizes 2000 4000 8000 16000]

A fan-out process of N tasks (tests/definitions/test_validation.py `fan_out_bpmn`) is parsed with
`engine.parsing.make_parser` (schema validation off: only the SpiffWorkflow parse is measured).
Prints the seconds per size and each size's ratio to the previous one: about 2 for linear growth
(stock SpiffWorkflow's `.//*[@id]` lookups grew quadratically: 5 s at 8000, 41 s at 16000).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.parsing import make_parser, parse_xml  # noqa: E402
from tests.definitions.test_validation import fan_out_bpmn  # noqa: E402


def parse_seconds(tasks: int) -> float:
    data = fan_out_bpmn(tasks).encode()
    parser = make_parser()
    parser.validator = None
    started = time.perf_counter()
    parser.add_bpmn_xml(parse_xml(data).getroottree(), filename="fan.bpmn")
    return time.perf_counter() - started


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--sizes", type=int, nargs="+", default=[2000, 4000, 8000, 16000])
    sizes = args.parse_args().sizes
    previous = None
    print(f"{'tasks':>8} {'seconds':>9} {'ratio':>7}")
    for size in sizes:
        seconds = min(parse_seconds(size) for _ in range(3))
        ratio = f"{seconds / previous:7.2f}" if previous else f"{'':>7}"
        print(f"{size:>8} {seconds:9.3f} {ratio}")
        previous = seconds


if __name__ == "__main__":
    main()
