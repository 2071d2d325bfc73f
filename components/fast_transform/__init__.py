"""TFX's Transform, minus costs that are not its work: see `executor`."""
