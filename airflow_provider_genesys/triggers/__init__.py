"""Airflow triggers for Genesys Cloud analytics (deferrable operators)."""
