

def without_memory() -> None:
    """Each benchmark measures the tools themselves: no tool result kept from an earlier
    run is reused and no run is kept (``bench/memory_reuse.py`` measures the reuse)."""
    import os

    os.environ["MUIE_TOOL_CACHE"] = "false"
    os.environ["MUIE_STORE_RUNS"] = "false"


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def run_workers(script: str, workers: list[str], limit: int | None) -> dict[str, dict] | None:
    """Run ``script --worker NAME [--limit N]`` in a process of its own for each name (so that each
    has its own peak RSS) and read the JSON each prints last; None (its error printed) when one fails."""
    import json
    import subprocess
    import sys

    runs = {}
    for name in workers:
        cmd = [sys.executable, script, "--worker", name] + (["--limit", str(limit)] if limit else [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return None
        runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return runs


def timed_batch(texts: list[str], schema, tasks: str, agent):  # type: ignore[no-untyped-def]
    """(results, seconds) of the whole agent on ``texts`` as one batch, its models loaded beforehand."""
    import time

    from muie.agent.api import extract_batch

    extract_batch(texts[:2], schema=schema, tasks=tasks, agent=agent)  # models loaded outside the timing
    t0 = time.perf_counter()
    results = extract_batch(texts, schema=schema, tasks=tasks, agent=agent, batch_size=256)
    return results, time.perf_counter() - t0


def worker_agent(variable: str, value: str):  # type: ignore[no-untyped-def]
    """(agent, settings) of a worker process that measures with ``MUIE_...`` ``variable`` set to ``value``."""
    import os

    without_memory()
    os.environ[variable] = value
    from muie.agent.api import Agent
    from muie.settings import default_settings

    return Agent(), default_settings()
