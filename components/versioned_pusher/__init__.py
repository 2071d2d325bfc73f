"""TFX Pusher that publishes blessed models as integer versions, atomically."""
