"""The int8 encoder: how it is made (`recipe`, calibrated on the built-in corpus of `calibration`)
and where it is kept once made, per machine (`store`). It runs on the OpenVINO runtime."""
