"""The feature cache: a manifest that records how the features were made, and HDF5 shards, each
written whole and checked against the manifest whenever it is read."""
