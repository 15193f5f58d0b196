"""Self-assessment, supervision and validation, rating history and profiles."""
