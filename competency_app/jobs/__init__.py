"""Long work in a job queue: progress, results kept for a while, owner-only downloads."""
