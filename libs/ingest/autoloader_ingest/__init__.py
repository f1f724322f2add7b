"""One batch from the ledger to the table and back: load, record the outcome, recover."""
