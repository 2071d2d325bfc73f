"""TFX's Transform, writing its transformed examples uncompressed (components.beam_tfrecords)."""
