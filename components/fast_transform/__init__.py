"""TFX's Transform, writing its transformed examples uncompressed (see components.beam_gzip)."""
