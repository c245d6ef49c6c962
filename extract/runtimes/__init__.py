"""Encoder runtimes: what runs the encoder call. Each implements base.EncoderRuntime in its own
module, which has `load(handle, precision, ir_dir, flag)`; `load` below is the one
factory extract, `load()`/predict and export use. A new runtime is one module and one line in
RUNTIMES.

    tensorflow_runtime  the SavedModel as it is, inside the featurizer's graph (fp32)
    openvino_runtime    the SavedModel converted (fp32, bf16), or the int8 encoder of extract/int8/
"""
from __future__ import annotations

import dataclasses
import importlib

from ...common.errors import BadInput
from .base import EncoderRuntime


@dataclasses.dataclass(frozen=True)
class Runtime:
    module: str  # below mlbert.extract.runtimes; imported only when the runtime is used
    precisions: tuple[str, ...]


RUNTIMES = {
    "tensorflow": Runtime("tensorflow_runtime", ("fp32",)),
    "openvino": Runtime("openvino_runtime", ("fp32", "bf16", "int8")),
}
# The runtime a precision means when --runtime is not given: what caches made before runtimes were
# a setting of their own were made with.
DEFAULTS = {"fp32": "tensorflow", "bf16": "openvino", "int8": "openvino"}
PRECISIONS = tuple(DEFAULTS)


def resolve(runtime: str | None, precision: str) -> str:
    """The runtime's name for these settings, checked: the given one, or the precision's default."""
    if precision not in DEFAULTS:
        raise BadInput(f"--precision {precision}: choose one of {', '.join(PRECISIONS)}")
    name = runtime or DEFAULTS[precision]
    if name not in RUNTIMES:
        raise BadInput(f"--runtime {name}: choose one of {', '.join(RUNTIMES)}")
    if precision not in RUNTIMES[name].precisions:
        raise BadInput(f"--runtime {name} --precision {precision}: {name} runs "
                       f"{', '.join(RUNTIMES[name].precisions)}; drop --runtime (for {precision}: "
                       f"{DEFAULTS[precision]}) or choose another --precision")
    return name


def load(runtime: str, precision: str, handle: str, ir_dir=None, flag: str = "--encoder") -> EncoderRuntime:
    """The encoder `handle` on a runtime at a precision; int8 reads the quantised encoder in ir_dir.
    flag names the handle in errors (an option, or where a model dir recorded it)."""
    name = resolve(runtime, precision)
    module = importlib.import_module(f"{__name__}.{RUNTIMES[name].module}")
    return module.load(handle, precision, ir_dir, flag)
