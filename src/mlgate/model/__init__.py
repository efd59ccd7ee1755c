"""A model version: its spec, training, artifact on disk, predictions, and the tables it reads."""
