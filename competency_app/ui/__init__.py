"""NHS.UK layout, the WTForms → design-system bridge, shared filters and the demo."""
