"""Airflow DAG file: one training, inference and monitoring DAG per configs/*.yaml.

An invalid config is isolated: the other configs' DAGs still load, and Airflow shows an import
error of this file naming only the invalid config files and fields (never a DAG that silently
vanished). The data DAG lives in its own file so it keeps running while a config is fixed.
"""

import os
from pathlib import Path

from mlworkflows.config import Settings
from mlworkflows.dag_factories import build_model_dags_isolated
from mlworkflows.model_config import load_model_configs_isolated

_settings = Settings.load()
_configs_dir = Path(os.environ.get("MLWORKFLOWS_CONFIGS_DIR") or _settings.configs_dir).expanduser()
if not _configs_dir.is_absolute():
    _configs_dir = Path(__file__).resolve().parent.parent / _configs_dir

for _dag in build_model_dags_isolated(_settings, *load_model_configs_isolated(_configs_dir)):
    globals()[_dag.dag_id] = _dag
