"""One module per service; each `start(ctx)` starts it, waits for health, records its settings."""
