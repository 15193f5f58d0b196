"""Excel workbooks for HR and imports of staff and e-learning completions."""
