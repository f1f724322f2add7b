"""The one-shot migration tool: database schema, reconciliation with Prefect, imports."""
