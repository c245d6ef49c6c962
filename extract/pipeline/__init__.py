"""The `extract` command: read a dataset, plan its shards, encode them locally or on Apache Beam."""
