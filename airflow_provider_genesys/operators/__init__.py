"""Airflow operators for Genesys Cloud analytics."""
