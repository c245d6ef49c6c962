"""Any channel with its temperature (train/temperature.py): the same probabilities scaled, for
cached features and in the exported graph alike. `channels.load` wraps a model dir's channel in
it when the model was calibrated, so evaluate, predict, load() and export all apply it."""
from __future__ import annotations

import numpy as np

from ..temperature import scaled


class Calibrated:
    def __init__(self, channel, calibration: dict):
        self.channel, self.calibration = channel, calibration
        self.temperature = float(calibration["temperature"])

    def __getattr__(self, name):  # name, files, labels, spec, reads_*, fit, save, ...: the channel's own
        return getattr(self.channel, name)

    def probabilities(self, features: dict) -> np.ndarray:
        return np.asarray(scaled(self.channel.probabilities(features), self.temperature))

    def serving_probabilities(self, inputs):
        return scaled(self.channel.serving_probabilities(inputs), self.temperature)
