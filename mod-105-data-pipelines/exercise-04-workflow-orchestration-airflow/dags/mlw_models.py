"""Airflow DAG file: one training, inference and monitoring DAG per configs/*.yaml.

An invalid config raises here on purpose: Airflow shows it as an import error of this file,
naming the config file and field, instead of silently dropping that model's DAGs. The data DAG
lives in its own file so it keeps running while a config is being fixed.
"""

import os
from pathlib import Path

from mlworkflows.config import Settings
from mlworkflows.dag_factories import build_model_dags
from mlworkflows.model_config import load_model_configs

_settings = Settings.load()
_configs_dir = Path(os.environ.get("MLWORKFLOWS_CONFIGS_DIR") or _settings.configs_dir).expanduser()
if not _configs_dir.is_absolute():
    _configs_dir = Path(__file__).resolve().parent.parent / _configs_dir

for _dag in build_model_dags(_settings, load_model_configs(_configs_dir)):
    globals()[_dag.dag_id] = _dag
