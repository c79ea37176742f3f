"""Cold start budget: how long each Lambda handler takes to import, as a ratio to a floor.

The floor is a process that imports boto3 and pydantic and defines one model: the least any
handler of this stack could cost. Each handler and the floor are measured pair by pair, each in
a fresh interpreter, in alternating order, so both see the same machine load; the figure is the
median of the per-pair ratios. The handler is imported the way Lambda imports it (`handler`
from its own directory, the shared code and dependencies on the path) with Lambda's environment
variables, X-Ray tracing enabled and no trace header (Lambda's init phase has none). Compiled
.pyc files are in place, as the precompiled dependency layer ships them (infra/layers.py).

The budget is a ratio of at most 1.6 for every API handler (docs/performance.md).

Run: `python -m bench.cold_start [rounds]` (default 9).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_HANDLERS = ("authorizer", "ingest", "tables")
HANDLERS = (*API_HANDLERS, "worker")
BUDGET = 1.6

FLOOR = """
import boto3, pydantic

class Model(pydantic.BaseModel):
    name: str
"""
TIMED = """
import time
started = time.perf_counter()
{body}
print(time.perf_counter() - started)
"""


def lambda_environment() -> dict[str, str]:
    """What Lambda and the stack set for a function (infra/functions.py), with fake credentials."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_LAMBDA_FUNCTION_NAME": "ledgerline-bench",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": "ledgerline",
        "POWERTOOLS_METRICS_NAMESPACE": "Ledgerline/bench",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "LEDGERLINE_PROBLEM_BASE": "https://ledgerline.dev",
        "LEDGERLINE_TABLE": "ledgerline-records",
        "LEDGERLINE_IDEMPOTENCY_TABLE": "ledgerline-idempotency",
        "LEDGERLINE_CURSOR_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cursor",
        "LEDGERLINE_EVENT_BUS": "ledgerline-events",
        "LEDGERLINE_WORKER_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
    }


def seconds(body: str, handler_dir: Path | None = None) -> float:
    """Import time of `body` in a fresh interpreter (after its own start-up)."""
    path = [str(handler_dir)] if handler_dir else []
    path.append(str(ROOT / "layers" / "core" / "python"))
    env = {**lambda_environment(), "PYTHONPATH": os.pathsep.join(path)}
    result = subprocess.run([sys.executable, "-c", TIMED.format(body=body)], env=env, cwd=ROOT / "bench",
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def measure(name: str, rounds: int) -> tuple[float, float, float]:
    """(median ratio, median handler seconds, median floor seconds) over `rounds` pairs."""
    handler_dir = ROOT / "functions" / name
    seconds("import handler", handler_dir)  # compiles and caches .pyc once, as the layer ships them
    ratios, handler_times, floor_times = [], [], []
    for round_number in range(rounds):
        if round_number % 2:
            handler_time, floor_time = seconds("import handler", handler_dir), seconds(FLOOR)
        else:
            floor_time, handler_time = seconds(FLOOR), seconds("import handler", handler_dir)
        ratios.append(handler_time / floor_time)
        handler_times.append(handler_time)
        floor_times.append(floor_time)
    return statistics.median(ratios), statistics.median(handler_times), statistics.median(floor_times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    print(f"cold start: handler import time / floor (boto3 + pydantic + one model), median of {rounds} pairs")
    print(f"{'handler':<12}{'ratio':>7}{'import ms':>11}{'floor ms':>10}  budget")
    for name in HANDLERS:
        ratio, handler_time, floor_time = measure(name, rounds)
        verdict = ("ok" if ratio <= BUDGET else "OVER") + f" (<= {BUDGET})" if name in API_HANDLERS else "-"
        print(f"{name:<12}{ratio:>7.2f}{handler_time * 1000:>11.0f}{floor_time * 1000:>10.0f}  {verdict}")


if __name__ == "__main__":
    main()
