"""Workflow Orchestration Airflow."""

__version__ = "0.1.0"
