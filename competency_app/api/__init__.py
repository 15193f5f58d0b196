"""The read-only JSON API for reporting tools, its OpenAPI document and personal API tokens."""
