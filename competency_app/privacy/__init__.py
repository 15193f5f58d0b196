"""Personal data: what the product holds about whom (`registry`), and a person's whole
record as a file (`export`, `jobs`, `views`)."""
