"""`make run`: generate a sklearn project, build its venv, train, serve and ask for a prediction.

Everything lands in .demo/ (recreated each run); the server is stopped at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from mlscaffold.serving import serve, sync_env, train_model

HERE = Path(__file__).resolve().parent.parent
DEMO = HERE / ".demo"


def main() -> None:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    exe = Path(sys.executable).parent / "mlscaffold"
    subprocess.run([str(exe), "new", "iris-demo", "-t", "sklearn", "-o", str(DEMO),
                    "--no-interactive"], check=True)
    project = DEMO / "iris-demo"
    subprocess.run([str(exe), "validate", str(project)], check=True)
    print("building the project's venv (uv) and training its example model ...")
    sync_env(project)
    model = train_model(project, "sklearn")
    with serve(project, "iris_demo", env={"APP_MODEL_PATH": str(model),
                                          "APP_LOG_LEVEL": "WARNING"}) as base:
        row = {"features": [6.7, 3.1, 5.6, 2.4]}
        response = httpx.post(f"{base}/predict", json=row, timeout=30)
        response.raise_for_status()
        print(f"POST {base}/predict {json.dumps(row)}")
        print(json.dumps(response.json(), indent=2))
        print(f"GET /info -> template {httpx.get(f'{base}/info').json()['template_version']}")
    print(f"project left in {project} (cd there and `make test`, `make run`)")


if __name__ == "__main__":
    main()
