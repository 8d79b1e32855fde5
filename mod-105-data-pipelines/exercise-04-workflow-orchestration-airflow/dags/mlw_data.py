"""Airflow DAG file: the data-validation DAG (`mlw_data`). Logic lives in mlworkflows."""

from mlworkflows.config import Settings
from mlworkflows.dag_factories import build_data_dag

dag = build_data_dag(Settings.load())
