"""Driving Prefect for Autoloader: work pool and queues, one deployment per ingestion, runs,
and reconciliation. Shared by the api, worker and migrate; it names flows by entrypoint and
never imports a component."""
