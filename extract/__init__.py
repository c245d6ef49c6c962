"""Stage one: run a frozen BERT encoder once over the data and cache pooled per-layer features.

    encoders/   build encoders from checkpoints (Hugging Face import) and load them by handle
    runtimes/   what runs the encoder call (TensorFlow, OpenVINO): one interface, one factory
    int8/       the int8 encoder: its recipe, calibration corpus, and the store that keeps it
    features/   turn texts into pooled per-layer features (the one featurising path)
    cache/      the cache format: manifest and HDF5 shards, written whole and checked on read;
                the writer that owns an output folder
    pipeline/   orchestration: `extract`'s options, locally or on Apache Beam, resumable
"""
