"""Worker processes (common/workers.py): a worker that dies or refuses its job is reported at once,
never waited for."""
from __future__ import annotations

import time

import pytest

from mlbert import BadInput
from mlbert.common import workers


def test_a_worker_that_crashes_is_reported_with_its_last_line_not_waited_for():
    start = time.time()
    # sys.exit(state, job) takes one argument: the task raises TypeError, and the worker dies of it.
    with pytest.raises(BadInput, match=r"worker process \(pid \d+\) exited with code 1 .*TypeError: exit"):
        list(workers.run("builtins:len", "sys:exit", {}, [1, 2, 3], 2))
    assert time.time() - start < 60


def test_a_refusal_in_a_worker_is_one_bad_input_with_its_message(tmp_path):
    init = {"cache": str(tmp_path / "none"), "poolings": ["mean"], "lexical": False, "segments": False,
            "threads": 1}
    with pytest.raises(BadInput, match="no such cache folder"):
        list(workers.run("mlbert.train.sweep:worker_setup", "mlbert.train.sweep:worker_trial", init, [{}], 1))


def test_results_come_back_for_every_job_from_several_workers():
    got = sorted(workers.run("builtins:len", "builtins:max", {"a": 1, "b": 2}, [0, 1, 2, 3, 5], 2))
    assert got == [(0, 2), (1, 2), (2, 2), (3, 3), (5, 5)]  # max(len(init), job)
