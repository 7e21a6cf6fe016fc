"""Background jobs: a table of work with checkpoints, and the runner that does it."""
