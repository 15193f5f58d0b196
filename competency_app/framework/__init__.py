"""The competency framework: YAML schema, loader, versioned models and browsing pages."""
