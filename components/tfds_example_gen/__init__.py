"""TFX ExampleGen reading a prepared TFDS dataset by name, version and data dir."""
