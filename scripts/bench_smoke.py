"""`make test`: every benchmark at a small size, in the debug profile.

Each bench must run to its end and print each of its figures; a figure line
missing (or without its number) fails the check, so that no benchmark rots
between the full runs of `make bench`.

    .venv/bin/python scripts/bench_smoke.py [bench-plan bench-lambda bench-localcloud]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARGO = os.environ.get("CARGO", "cargo")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
# The debug profile and the tests' features: the build `make test-rust` made already.
CARGO_BENCH = [CARGO, "bench", "--locked", "--profile", "dev", "--features", "failpoints", "--bench"]
NUMBER = r"[0-9]+(?:\.[0-9]+)?"

# name: (command, extra environment, figures: a pattern each that a line of its output must match)
BENCHES: dict[str, tuple[list[str], dict[str, str], list[str]]] = {
    "bench-plan": (
        CARGO_BENCH + ["plan", "--", "--accounts", "40", "--latency-ms", "5", "--sts-rate", "20",
                       "--localcloud-accounts", "3"],
        {},
        [
            r"^chatops plan --org, in-process fake of the services, 40 accounts:$",
            rf"^  calls made +{NUMBER} \({NUMBER} a planned account, {NUMBER} ListAccounts pages\)",
            rf"^  throttles met +{NUMBER}",
            rf"^  ideal +{NUMBER} s ",
            rf"^  plan took +{NUMBER} s ",
            rf"^  ratio +{NUMBER}x ",
            rf"^  calls in flight +at most .*Sts {NUMBER}",
            rf"^  peak heap +{NUMBER} MiB",
            rf"^  peak memory \(VmHWM\) +{NUMBER} MiB",
            r"^chatops plan, local cloud with injected latency:$",
            rf"^  calls made +{NUMBER} \({NUMBER} per account\)",
            rf"^  plan took +{NUMBER} s ",
        ],
    ),
    "bench-lambda": (
        CARGO_BENCH + ["lambda"],
        {"BENCH_SIZE": "small"},
        [
            rf"^cold start, first request no-op \(median of 1\) +{NUMBER} ms +{NUMBER} ms",
            rf"^cold start, first request a Create \(median of 1\) +{NUMBER} ms +{NUMBER} ms",
            rf"^warm overhead of the handler \(no-change Update\) +{NUMBER} ms +{NUMBER} ms",
            rf"^  each further service call adds \(SDK work\) +{NUMBER} ms +{NUMBER} ms",
            rf"^peak memory \(VmHWM\) +{NUMBER} MiB +{NUMBER} MiB",
            rf"^service calls of a warm Create +{NUMBER} +{NUMBER}",
        ],
    ),
    "bench-localcloud": (
        [PYTHON, "localcloud/bench.py", "--calls", "5", "--configs", "2", "--members", "3"],
        {},
        [
            rf"^  DescribeSlackChannelConfigurations\(ChatConfigurationArn\) +median +{NUMBER} ms +p95 +{NUMBER} ms",
            rf"^  DescribeSlackWorkspaces +median +{NUMBER} ms",
            rf"^median describe call: {NUMBER} ms$",
        ],
    ),
}


def run(name: str) -> list[str]:
    """Runs one bench; returns what is wrong with it (nothing when it works)."""
    command, extra, figures = BENCHES[name]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **extra}, capture_output=True, text=True)
    took = time.monotonic() - started
    lines = done.stdout.splitlines()
    problems = []
    if done.returncode != 0:
        problems.append(f"exited {done.returncode}")
    for figure in figures:
        if not any(re.search(figure, line) for line in lines):
            problems.append(f"no line matches {figure!r}")
    print(f"{name}: {'ok' if not problems else 'FAILED'} in {took:.0f} s")
    if problems:
        sys.stdout.write(done.stdout)
        sys.stdout.write(done.stderr[-4000:])
        for problem in problems:
            print(f"{name}: {problem}")
    return problems


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    failed = [name for name in names or list(BENCHES) if run(name)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
