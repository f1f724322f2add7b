"""Autoloader's REST API: validates, stores, and drives Prefect; never loads or schedules."""
