"""Team coverage of the framework, gaps, training links and development plans."""
