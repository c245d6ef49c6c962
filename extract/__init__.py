"""Stage one: run a frozen BERT encoder once over the data and cache pooled per-layer features.

    encoders/   build encoders from checkpoints (Hugging Face import) and load them by handle
    features/   turn texts into pooled per-layer features (the one featurising path)
    cache/      the cache format: manifest and HDF5 shards, written whole and checked on read
    pipeline/   orchestration: `extract` locally or on Apache Beam, resumable
"""
