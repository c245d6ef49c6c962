"""common/progress.py: progress lines say something at every pace."""
from __future__ import annotations

import io


def test_slow_items_are_reported_as_seconds_each_and_fast_ones_per_second():
    from mlbert.common.progress import Progress, pace

    assert pace(0.08, "probes") == "12.5 s per probe"
    assert pace(250.0, "reviews") == "250.0 reviews/s"
    stream = io.StringIO()
    progress = Progress("probe", 4, unit="probes", stream=stream)
    progress.update(1)
    progress.start -= 20  # as if the first probe took 20 s
    assert "s per probe)" in (progress.finish() and stream.getvalue())
