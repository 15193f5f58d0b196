"""Training: e-learning completions, required training and its refresh, and assigned modules."""
