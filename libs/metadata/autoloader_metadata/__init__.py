"""The metadata store: ingestions, tenants, API keys and the file ledger in PostgreSQL."""
