"""New-file detection: a listing of the source diffed against the ingestion's file ledger."""
