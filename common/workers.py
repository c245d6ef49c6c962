"""Worker processes for work that runs in parallel (a sweep's trials): jobs and results as JSON lines
over pipes, and a worker that dies is noticed and reported, never waited for.

Why not multiprocessing: its spawned children re-run the caller's main module, so a script without
`if __name__ == "__main__":` (or `python cli.py` from a clone, where the package is loaded by path)
made every worker fail at start, and its Pool replaced the dead workers forever while the parent
waited. A worker here starts from a fixed bootstrap that loads this package from its folder, and
runs only the named functions.
"""
from __future__ import annotations

import collections
import dataclasses
import importlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import BadInput

PACKAGE = __name__.split(".")[0]
ROOT = Path(__file__).resolve().parent.parent  # the package's folder: a clone, or site-packages/mlbert
STOP_SECONDS = 5  # how long a worker told to stop gets before it is killed

# What a worker runs: the package loaded from its folder under its own name (as cli.py does from a
# clone), then serve(). Nothing of the caller's main module.
BOOTSTRAP = """
import importlib.util, sys
package, root = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location(package, root + "/__init__.py", submodule_search_locations=[root])
sys.modules[package] = module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
importlib.import_module(package + ".common.workers").serve(sys.argv[3])
"""


def _function(name: str):
    """'package.module:function' as the function."""
    module, attribute = name.split(":")
    return getattr(importlib.import_module(module), attribute)


def serve(spec: str) -> None:
    """A worker's main loop. spec (JSON): setup, task (functions by name) and init. setup(init) runs
    once; then task(state, job) for each job line on stdin, each answered by one line."""
    answers = os.fdopen(os.dup(1), "w")  # the protocol's own copy of stdout
    os.dup2(2, 1)  # anything else printed (TensorFlow, Keras) goes to stderr, not into the protocol
    # Ctrl-C reaches every process of the terminal's group: the parent alone decides to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spec = json.loads(spec)

    def answer(message: dict) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    try:
        state = _function(spec["setup"])(spec["init"])
    except BadInput as e:
        state, failed = None, str(e)
    else:
        failed = None
    task = _function(spec["task"])
    for line in sys.stdin:
        if failed:
            answer({"error": failed})
            continue
        try:
            answer({"result": task(state, json.loads(line))})
        except BadInput as e:
            answer({"error": str(e)})


@dataclasses.dataclass
class _Worker:
    process: subprocess.Popen
    errors: IO  # its stderr, kept for the report if it dies
    job: object = None  # the job it is running, None when idle


def run(setup: str, task: str, init: dict, jobs: list, count: int) -> Iterator[tuple[object, object]]:
    """(job, result) pairs as `count` workers finish them, in any order. A job the task refuses
    (BadInput) or a worker that dies raises BadInput; the workers are stopped however this ends."""
    queue = collections.deque(jobs)
    spec = json.dumps({"setup": setup, "task": task, "init": init})
    pool: list[_Worker] = []
    selector = selectors.DefaultSelector()
    try:
        for _ in range(min(count, len(queue))):
            errors = tempfile.TemporaryFile("w+")
            process = subprocess.Popen([sys.executable, "-c", BOOTSTRAP, PACKAGE, str(ROOT), spec],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True)
            worker = _Worker(process, errors)
            pool.append(worker)
            selector.register(process.stdout, selectors.EVENT_READ, worker)
            _give(worker, queue, selector)
        while any(w.job is not None for w in pool):
            for key, _ in selector.select(timeout=STOP_SECONDS):
                worker = key.data
                line = worker.process.stdout.readline()
                if not line:
                    raise BadInput(_died(worker))
                message = json.loads(line)
                if "error" in message:
                    raise BadInput(message["error"])
                job, worker.job = worker.job, None
                _give(worker, queue, selector)
                yield job, message["result"]
    finally:
        selector.close()
        for worker in pool:
            _stop(worker)


def _give(worker: _Worker, queue, selector) -> None:
    """The next job to an idle worker; with none left, its stdin closes and it exits."""
    try:
        if queue:
            worker.job = queue.popleft()
            worker.process.stdin.write(json.dumps(worker.job) + "\n")
            worker.process.stdin.flush()
        else:
            selector.unregister(worker.process.stdout)
            worker.process.stdin.close()
    except BrokenPipeError:
        raise BadInput(_died(worker))


def _died(worker: _Worker) -> str:
    """What a worker that stopped unasked says: its exit code and the last line it wrote."""
    try:
        code = worker.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        code = None
    worker.errors.seek(0)
    lines = [line.strip() for line in worker.errors.read().splitlines() if line.strip()]
    how = ("did not exit" if code is None else
           f"was killed by signal {-code}{' (out of memory?)' if code == -signal.SIGKILL else ''}" if code < 0 else
           f"exited with code {code}")
    said = f": {lines[-1][:300]}" if lines else ""
    return f"a worker process (pid {worker.process.pid}) {how} before finishing its job{said}"


def _stop(worker: _Worker) -> None:
    process = worker.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pipe in (process.stdin, process.stdout):
        try:
            pipe.close()
        except (OSError, ValueError):
            pass  # a pipe to a process that is gone
    worker.errors.close()
