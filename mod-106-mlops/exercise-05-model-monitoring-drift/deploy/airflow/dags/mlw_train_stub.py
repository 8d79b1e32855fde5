"""Stand-in for 105-04's training DAGs (`mlw_train_<model>`): same ids, one empty task.

driftwatch's tests and demo run the Airflow api-server without a scheduler, so runs stay
queued: what is checked is that exactly one run exists per decision, with the right conf.
"""

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

for model in ("cancer_logreg", "cancer_forest", "credit_default"):
    with DAG(dag_id=f"mlw_train_{model}", schedule=None, start_date=datetime(2025, 1, 1),
             catchup=False, is_paused_upon_creation=False,
             tags=["driftwatch-stub"]) as dag:
        EmptyOperator(task_id="train")
    globals()[dag.dag_id] = dag
