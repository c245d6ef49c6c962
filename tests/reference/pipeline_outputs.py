"""What the pipeline produces on the tiny encoder, computed through the public API and the cache's
files alone: cached features and n-gram ids for several feature settings and precisions, and the
probabilities of trained BERT, lexical and fused models through `load()` and `export`.

tests/test_reference_outputs.py recomputes these and compares them with the arrays committed in
tests/reference/pipeline_outputs.npz, so that a change of the code's structure that changes a single
bit of a feature or a probability is caught. When a change is meant to alter outputs, write the file
anew and say why in the commit:

    .venv/bin/python tests/reference/pipeline_outputs.py
"""
from __future__ import annotations

import json
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "pipeline_outputs.npz"

# (name, extract options): each a cache of the tiny archive.
CACHES = (
    ("head", dict(seq_len=64, pooling="mean,max,cls", ngrams=3, batch_size=8)),
    ("windows", dict(seq_len=32, windows=True, stride=20, pooling="mean,max", batch_size=8)),
    ("headtail", dict(seq_len=48, truncation="head+tail", pooling="mean")),
    ("int8", dict(seq_len=64, pooling="mean", precision="int8")),
    ("bf16", dict(seq_len=64, pooling="mean", precision="bf16")),
)
# (name, cache, train options): each a model dir.
MODELS = (
    ("bert", "head", dict(pooling="mean,max", ensemble=2, epochs=3, lr=3e-3, batch_size=16)),
    ("lexical", "head", dict(channel="lexical")),
    ("fused", "head", dict(channel="fused", epochs=3, lr=3e-3, batch_size=16)),
    ("int8_bert", "int8", dict(epochs=3, lr=3e-3, batch_size=16)),
)
EXPORTED = ("fused",)
PROBE = ["A wonderful, moving film!", "Boring and awful, the worst.", "", "the plot " * 200]


def environment() -> dict:
    """What the bits depend on besides the code: where they may differ, tests compare with a tolerance."""
    names = ("tensorflow", "keras", "numpy", "openvino", "nncf")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    # The same model name covers machines with and without AVX-512 (VNNI, BF16): oneDNN's and
    # OpenVINO's kernels, and so the bits, follow the instruction sets the CPU offers.
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), []) if Path("/proc/cpuinfo").exists() else []
    isa = sorted(f for f in flags if f.startswith(("avx", "amx", "fma", "f16c")))
    return {**found, "cpu": cpu, "isa": " ".join(isa)}


def shard_arrays(cache: Path, prefix: str) -> dict[str, np.ndarray]:
    """Every dataset of every shard of every split, by '<prefix>/<split>/<dataset>', shards in order."""
    manifest = json.loads((cache / "manifest.json").read_text())
    arrays = {}
    for split, entry in sorted(manifest["splits"].items()):
        parts: dict[str, list] = {}
        for shard in sorted(entry["shards"], key=lambda s: s["file"]):
            with h5py.File(cache / shard["file"], "r") as f:
                for name in f:
                    if name != "ids":
                        parts.setdefault(name, []).append(f[name][...])
        arrays.update({f"{prefix}/{split}/{name}": np.concatenate(v) for name, v in parts.items()})
    return arrays


def compute(archive: Path, encoder: Path, preprocessor: Path, work: Path, names=None) -> dict[str, np.ndarray]:
    """The outputs named in CACHES and MODELS (all, or those whose names are in `names`)."""
    import mlbert

    wanted = set(names) if names is not None else {n for n, _ in CACHES} | {n for n, _, _ in MODELS}
    caches_needed = {c for n, c, _ in MODELS if n in wanted} | (wanted & {n for n, _ in CACHES})
    texts = PROBE
    out = {}
    for name, options in CACHES:
        if name not in caches_needed:
            continue
        mlbert.extract(archive, work / f"cache-{name}", encoder=str(encoder), preprocessor=str(preprocessor),
                      **options)
        if name in wanted:
            out.update(shard_arrays(work / f"cache-{name}", f"features/{name}"))
    for name, cache, options in MODELS:
        if name not in wanted:
            continue
        # The raw heads, as when the reference was written (calibration is tested in test_calibration.py).
        mlbert.train(work / f"cache-{cache}", work / f"model-{name}", seed=3, calibrate=False, **options)
        out[f"probabilities/{name}"] = np.asarray(mlbert.load(work / f"model-{name}").probabilities(texts))
        if name in EXPORTED:
            import tensorflow as tf

            mlbert.export(work / f"model-{name}", work / f"export-{name}")
            serving = tf.saved_model.load(str(work / f"export-{name}"))
            out[f"exported/{name}"] = serving.signatures["serving_default"](
                text=tf.constant(texts))["probabilities"].numpy()
    return out


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    from helpers import TINY_CONFIG, VOCAB, make_archive  # noqa: E402  (the tests' own tiny data)

    import mlbert

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bert").mkdir()
        (work / "bert" / "config.json").write_text(json.dumps(TINY_CONFIG))
        (work / "bert" / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
        mlbert.import_encoder(work / "bert", work / "models", random=True, seed=1)
        archive = make_archive(work / "aclImdb_v1.tar.gz", per_label=30, seed=5)
        arrays = compute(archive, work / "models" / "encoder", work / "models" / "preprocessor", work)
    np.savez_compressed(REFERENCE, environment=json.dumps(environment()), **arrays)
    print(f"wrote {REFERENCE}: {len(arrays)} arrays")


if __name__ == "__main__":
    main()
