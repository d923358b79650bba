"""Airflow hooks for Genesys Cloud."""
