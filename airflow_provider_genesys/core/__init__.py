"""The Genesys Cloud client core: auth, pacing, retries, planning, paging and writers.

Nothing in this package imports Airflow; hooks, operators and triggers adapt it.
"""
