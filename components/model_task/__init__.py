"""What task a model is for (its name, classes, serving signatures), so that a baseline is only
ever a model of the same task."""
