"""Training entry points that track everything needed to reproduce and compare a run.

Each run records: parameters; per-epoch curves sent with `log_batch` (one request for all
steps instead of one per value); the train and validation sets as `mlflow.data` inputs with
their digests; the model with its signature and an input example (an MLflow 3 LoggedModel,
with the validation metrics linked to it); a confusion matrix and a feature-importance plot;
git commit and environment tags. Registering adds a model version and points the
`challenger` alias at it.
"""

from __future__ import annotations

import itertools
import platform
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import mlflow
import mlflow.data
import numpy as np
import pandas as pd
import sklearn
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.pandas_dataset import from_pandas
from mlflow.entities import Metric
from mlflow.models import infer_signature
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mltrack import plots
from mltrack.adapters.mlflow_server import Tracker
from mltrack.data import SOURCE, TARGET, Dataset, Split, load_dataset
from mltrack.errors import MissingDependencyError
from mltrack.metrics import (
    classification_metrics,
    confusion_counts,
    permutation_importance,
    to_labels,
)

CLASS_NAMES = ("malignant", "benign")


@dataclass(frozen=True)
class SklearnParams:
    """SGD logistic regression: trained epoch by epoch so it has a learning curve."""

    alpha: float = 1e-4
    eta0: float = 0.01
    epochs: int = 20
    penalty: str = "l2"
    seed: int = 0


@dataclass(frozen=True)
class TorchParams:
    hidden: int = 16
    epochs: int = 30
    lr: float = 0.01
    batch_size: int = 64
    seed: int = 0


@dataclass(frozen=True)
class KerasParams:
    """A small Keras MLP (TensorFlow backend, CPU): Normalization -> Dense(relu) -> softmax."""

    hidden: int = 16
    epochs: int = 30
    lr: float = 0.01
    batch_size: int = 64
    seed: int = 0


@dataclass
class TrainResult:
    run_id: str
    model_uri: str
    model_id: str
    metrics: dict[str, float]
    flavor: str
    version: str | None = None
    model_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    parent_run_id: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    best: TrainResult | None = None


# --------------------------------------------------------------------------- tags


def git_tags(path: Path | None = None) -> dict[str, str]:
    """Commit and dirty flag of the working tree (unknown outside a git checkout)."""
    cwd = path or Path.cwd()

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                                 check=False, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD") or "unknown"
    status = git("status", "--porcelain")
    return {
        "mlflow.source.git.commit": commit,
        "git.commit": commit,
        "git.dirty": "unknown" if status is None else str(bool(status)).lower(),
    }


def environment_tags(extra: dict[str, str] | None = None) -> dict[str, str]:
    tags = {
        "env.python": platform.python_version(),
        "env.platform": platform.platform(),
        "env.host": socket.gethostname(),
        "env.mlflow": mlflow.__version__,
        "env.scikit_learn": sklearn.__version__,
        "env.numpy": np.__version__,
        "env.pandas": pd.__version__,
    }
    tags.update(extra or {})
    return tags


# --------------------------------------------------------------------------- fitting


def _curve_metrics(curves: dict[str, list[float]]) -> list[Metric]:
    now = int(time.time() * 1000)
    return [Metric(key, float(value), now, step)
            for key, values in curves.items() for step, value in enumerate(values)]


def fit_sklearn(ds: Dataset, params: SklearnParams) -> tuple[Pipeline, dict[str, list[float]]]:
    """Standardise, then SGD logistic regression one epoch at a time, recording curves."""
    scaler = StandardScaler().fit(ds.train.features)
    x_train = scaler.transform(ds.train.features)
    x_val = scaler.transform(ds.validation.features)
    clf = SGDClassifier(loss="log_loss", alpha=params.alpha, eta0=params.eta0,
                        learning_rate="constant", penalty=params.penalty,
                        random_state=params.seed)
    curves: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    for _ in range(params.epochs):
        clf.partial_fit(x_train, ds.train.labels, classes=np.array([0, 1]))
        curves["train_loss"].append(float(log_loss(ds.train.labels,
                                                   clf.predict_proba(x_train))))
        curves["val_loss"].append(float(log_loss(ds.validation.labels,
                                                 clf.predict_proba(x_val))))
        curves["val_accuracy"].append(float(np.mean(clf.predict(x_val)
                                                    == ds.validation.labels)))
    return Pipeline([("scale", scaler), ("clf", clf)]), curves


def fit_torch(ds: Dataset, params: TorchParams) -> tuple[Any, dict[str, list[float]]]:
    """Mini-batch training of TinyMLP on CPU (the model is tiny; a GPU would not help)."""
    import torch

    from mltrack.models import TinyMLP

    torch.manual_seed(params.seed)
    x = ds.train.features.to_numpy(dtype=np.float32)
    y = ds.train.labels.to_numpy(dtype=np.int64)
    x_val = torch.as_tensor(ds.validation.features.to_numpy(dtype=np.float32))
    y_val = torch.as_tensor(ds.validation.labels.to_numpy(dtype=np.int64))
    model = TinyMLP(x.shape[1], params.hidden, x.mean(axis=0), x.std(axis=0))
    optimizer = torch.optim.Adam(model.parameters(), lr=params.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(params.seed)
    x_t, y_t = torch.as_tensor(x), torch.as_tensor(y)
    curves: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    for _ in range(params.epochs):
        model.train()
        order = torch.randperm(len(x_t), generator=generator)
        total = 0.0
        for start in range(0, len(order), params.batch_size):
            idx = order[start:start + params.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            curves["train_loss"].append(total / len(x_t))
            curves["val_loss"].append(float(loss_fn(logits, y_val)))
            curves["val_accuracy"].append(float((logits.argmax(1) == y_val).float().mean()))
    return model, curves


def _torch_predict(model: Any) -> Any:
    import torch

    def predict(frame: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            out = model(torch.as_tensor(frame.to_numpy(dtype=np.float32)))
        return to_labels(out.numpy())

    return predict


def import_keras() -> Any:
    """Keras on the TensorFlow backend, or a one-line error naming the extra to install."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no oneDNN/CPU-feature banners
    try:
        import keras
        import tensorflow as tf
    except ImportError as exc:
        raise MissingDependencyError(
            "TensorFlow is not installed: install mltrack[tensorflow] "
            "(uv sync --extra tensorflow)") from exc
    keras.utils.disable_interactive_logging()  # no progress bars on stdout (see --json)
    return keras, tf


def fit_keras(ds: Dataset, params: KerasParams) -> tuple[Any, dict[str, list[float]]]:
    """Mini-batch training of a small Keras MLP on CPU, one curve point per epoch."""
    # BEGIN SOLUTION: seeded Keras model (normalisation adapted on train), fit with validation
    keras, tf = import_keras()
    keras.utils.set_random_seed(params.seed)
    tf.config.experimental.enable_op_determinism()
    x = ds.train.features.to_numpy(dtype=np.float32)
    y = ds.train.labels.to_numpy(dtype=np.int64)
    x_val = ds.validation.features.to_numpy(dtype=np.float32)
    y_val = ds.validation.labels.to_numpy(dtype=np.int64)
    normalise = keras.layers.Normalization()
    normalise.adapt(x)
    model = keras.Sequential([
        keras.Input(shape=(x.shape[1],), name="features"),
        normalise,
        keras.layers.Dense(params.hidden, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ], name="tiny_keras_mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=params.lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, validation_data=(x_val, y_val), epochs=params.epochs,
                        batch_size=params.batch_size, shuffle=True, verbose=0)
    curves = {"train_loss": [float(v) for v in history.history["loss"]],
              "val_loss": [float(v) for v in history.history["val_loss"]],
              "val_accuracy": [float(v) for v in history.history["val_accuracy"]]}
    return model, curves
    # END SOLUTION


def _keras_predict(model: Any) -> Any:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return to_labels(model.predict(frame.to_numpy(dtype=np.float32), verbose=0))

    return predict


# --------------------------------------------------------------------------- logging


def _dataset(split: Split, drop: Sequence[str]) -> Any:
    name = f"breast-cancer-{split.name}" + (f"-minus-{len(drop)}" if drop else "")
    return from_pandas(split.frame(), source=dataset_source(), targets=TARGET,
                                   name=name)


def dataset_source() -> CodeDatasetSource:
    """The data comes from code (a loader bundled with scikit-learn), not a file or URL."""
    return CodeDatasetSource(tags={"loader": SOURCE, "sklearn": sklearn.__version__})


def _log_common(tracker: Tracker, run_id: str, ds: Dataset, drop: Sequence[str],
                params: dict[str, Any], curves: dict[str, list[float]]) -> Any:
    # BEGIN SOLUTION: log params, dataset inputs and batched curves
    mlflow.log_params(params)
    mlflow.log_input(_dataset(ds.train, drop), context="training")
    val_dataset = _dataset(ds.validation, drop)
    mlflow.log_input(val_dataset, context="validation")
    tracker.log_metrics_batched(run_id, _curve_metrics(curves))
    return val_dataset
    # END SOLUTION


def _log_evaluation(predicted: np.ndarray, ds: Dataset, importance: dict[str, float],
                    model_id: str, val_dataset: Any) -> dict[str, float]:
    # BEGIN SOLUTION: log metrics linked to the LoggedModel, plots
    metrics = classification_metrics(ds.validation.labels, predicted)
    mlflow.log_metrics({f"val_{k}": v for k, v in metrics.items()}, model_id=model_id,
                       dataset=val_dataset)
    mlflow.log_figure(plots.confusion_matrix_figure(
        confusion_counts(ds.validation.labels, predicted), CLASS_NAMES),
        "plots/confusion_matrix.png")
    mlflow.log_figure(plots.feature_importance_figure(importance),
                      "plots/feature_importance.png")
    mlflow.log_dict({"importance": importance}, "feature_importance.json")
    return metrics
    # END SOLUTION


def _log_sklearn_model(tracker: Tracker, run_id: str, ds: Dataset, drop: Sequence[str],
                       params: SklearnParams, pipeline: Pipeline,
                       curves: dict[str, list[float]]) -> TrainResult:
    # BEGIN SOLUTION: log the model with signature and input example
    val_dataset = _log_common(tracker, run_id, ds, drop,
                              {**asdict(params), "model": "sgd-logreg",
                               "dropped_features": ",".join(drop) or "none"}, curves)
    example = ds.train.features.head(3)
    info = mlflow.sklearn.log_model(
        pipeline, name="model", signature=infer_signature(example, pipeline.predict(example)),
        input_example=example,
        # cloudpickle: our own models only; skops' default import pulls in every estimator
        # (and torch) and its safe loader rejects common types anyway.
        serialization_format="cloudpickle",
        pip_requirements=[f"cloudpickle=={cloudpickle.__version__}",
                          f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}",
                          f"pandas=={pd.__version__}"],
        params=asdict(params),
    )
    coefs = np.abs(pipeline.named_steps["clf"].coef_[0])
    importance = {str(name): float(value) for name, value in zip(ds.feature_names, coefs,
                                                                 strict=True)}
    metrics = _log_evaluation(pipeline.predict(ds.validation.features), ds, importance,
                              info.model_id, val_dataset)
    return TrainResult(run_id, info.model_uri, info.model_id, metrics, "sklearn")
    # END SOLUTION


def train_sklearn(tracker: Tracker, experiment: str, params: SklearnParams, *,
                  register_as: str | None = None, drop_features: Sequence[str] = (),
                  run_name: str | None = None) -> TrainResult:
    """Train and log the scikit-learn model; optionally register it as the challenger."""
    ds = load_dataset(drop_features)
    tracker.ensure_experiment(experiment)
    mlflow.set_experiment(experiment)
    pipeline, curves = fit_sklearn(ds, params)
    name = run_name or f"sgd-a{params.alpha:g}-lr{params.eta0:g}-e{params.epochs}"
    with mlflow.start_run(run_name=name, tags={**git_tags(), **environment_tags(),
                                               "mltrack.flavor": "sklearn"}) as run:
        result = _log_sklearn_model(tracker, run.info.run_id, ds, drop_features, params,
                                    pipeline, curves)
    if register_as:
        register_result(tracker, result, register_as)
    return result


def train_torch(tracker: Tracker, experiment: str, params: TorchParams, *,
                register_as: str | None = None, run_name: str | None = None) -> TrainResult:
    """Train and log the small PyTorch model; optionally register it as the challenger."""
    import torch

    ds = load_dataset()
    tracker.ensure_experiment(experiment)
    mlflow.set_experiment(experiment)
    model, curves = fit_torch(ds, params)
    name = run_name or f"mlp-h{params.hidden}-lr{params.lr:g}-e{params.epochs}"
    tags = {**git_tags(), **environment_tags({"env.torch": torch.__version__}),
            "mltrack.flavor": "pytorch", "env.device": "cpu"}
    with mlflow.start_run(run_name=name, tags=tags) as run:
        val_dataset = _log_common(tracker, run.info.run_id, ds, (),
                                  {**asdict(params), "model": "tiny-mlp"}, curves)
        example = ds.train.features.head(3)
        with torch.no_grad():
            example_out = model(torch.as_tensor(example.to_numpy(dtype=np.float32))).numpy()
        info = mlflow.pytorch.log_model(
            model, name="model", signature=infer_signature(example, example_out),
            input_example=example,
            serialization_format="pickle",  # TinyMLP is importable from mltrack.models
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}",
                              f"numpy=={np.__version__}", "mltrack"],
            params=asdict(params),
        )
        predict = _torch_predict(model)
        importance = permutation_importance(predict, ds.validation.features,
                                            ds.validation.labels, seed=params.seed)
        metrics = _log_evaluation(predict(ds.validation.features), ds, importance,
                                  info.model_id, val_dataset)
        result = TrainResult(run.info.run_id, info.model_uri, info.model_id, metrics,
                             "pytorch")
    if register_as:
        register_result(tracker, result, register_as)
    return result


def train_keras(tracker: Tracker, experiment: str, params: KerasParams, *,
                register_as: str | None = None, run_name: str | None = None) -> TrainResult:
    """Train and log the small Keras model; optionally register it as the challenger."""
    # BEGIN SOLUTION: same tracking as torch, logged with the mlflow.keras flavour
    keras, tf = import_keras()
    import mlflow.keras

    ds = load_dataset()
    tracker.ensure_experiment(experiment)
    mlflow.set_experiment(experiment)
    model, curves = fit_keras(ds, params)
    name = run_name or f"keras-h{params.hidden}-lr{params.lr:g}-e{params.epochs}"
    tags = {**git_tags(), **environment_tags({"env.tensorflow": tf.__version__,
                                              "env.keras": keras.__version__}),
            "mltrack.flavor": "keras", "env.device": "cpu"}
    with mlflow.start_run(run_name=name, tags=tags) as run:
        val_dataset = _log_common(tracker, run.info.run_id, ds, (),
                                  {**asdict(params), "model": "tiny-keras-mlp",
                                   "keras_backend": keras.backend.backend()}, curves)
        # mlflow.keras needs a tensor signature: one float64 tensor of the 30 features in the
        # dataset's column order (float64, so pyfunc accepts the DataFrame callers send; the
        # model casts to float32). No input_example: mlflow.keras.save_model (MLflow 3.x)
        # writes it before it creates the model folder and fails.
        example = ds.train.features.head(3).to_numpy(dtype=np.float64)
        example_out = model.predict(example, verbose=0)
        info = mlflow.keras.log_model(
            model, name="model", signature=infer_signature(example, example_out),
            pip_requirements=[f"tensorflow-cpu=={tf.__version__}",
                              f"keras=={keras.__version__}", f"numpy=={np.__version__}"],
            params=asdict(params),
        )
        predict = _keras_predict(model)
        importance = permutation_importance(predict, ds.validation.features,
                                            ds.validation.labels, seed=params.seed)
        metrics = _log_evaluation(predict(ds.validation.features), ds, importance,
                                  info.model_id, val_dataset)
        result = TrainResult(run.info.run_id, info.model_uri, info.model_id, metrics, "keras")
    if register_as:
        register_result(tracker, result, register_as)
    return result
    # END SOLUTION


def hyperparameter_search(tracker: Tracker, experiment: str, alphas: Sequence[float],
                          eta0s: Sequence[float], epochs: int, *, metric: str = "val_f1",
                          register_as: str | None = None) -> SearchResult:
    """Grid search as nested runs: one child per trial, the best model logged on the parent."""
    # BEGIN SOLUTION: parent run, nested child per trial, best model on parent
    ds = load_dataset()
    tracker.ensure_experiment(experiment)
    mlflow.set_experiment(experiment)
    tags = {**git_tags(), **environment_tags(), "mltrack.flavor": "sklearn",
            "mltrack.search": "grid"}
    grid = [SklearnParams(alpha=a, eta0=e, epochs=epochs)
            for a, e in itertools.product(alphas, eta0s)]
    with mlflow.start_run(run_name=f"search-{len(grid)}-trials", tags=tags) as parent:
        result = SearchResult(parent.info.run_id)
        mlflow.log_params({"search.alphas": list(alphas), "search.eta0s": list(eta0s),
                           "search.epochs": epochs, "search.metric": metric,
                           "search.trials": len(grid)})
        scored: list[tuple[float, SklearnParams]] = []
        for params in grid:
            name = f"trial-a{params.alpha:g}-lr{params.eta0:g}"
            with mlflow.start_run(run_name=name, nested=True, tags=tags) as child:
                pipeline, curves = fit_sklearn(ds, params)
                _log_common(tracker, child.info.run_id, ds, (), asdict(params), curves)
                trial = {f"val_{k}": v for k, v in classification_metrics(
                    ds.validation.labels, pipeline.predict(ds.validation.features)).items()}
                mlflow.log_metrics(trial)
                result.trials.append({"run_id": child.info.run_id, **asdict(params), **trial})
                scored.append((trial[metric], params))
        best_score, best_params = max(scored, key=lambda item: item[0])
        mlflow.log_metric(f"best_{metric}", best_score)
        mlflow.set_tag("mltrack.best_params", str(asdict(best_params)))
        pipeline, curves = fit_sklearn(ds, best_params)
        result.best = _log_sklearn_model(tracker, parent.info.run_id, ds, (), best_params,
                                         pipeline, curves)
    if register_as and result.best is not None:
        register_result(tracker, result.best, register_as)
    return result
    # END SOLUTION


# --------------------------------------------------------------------------- registry


def register_result(tracker: Tracker, result: TrainResult, name: str) -> str:
    """Add a model version for the result, describe and tag it, make it the challenger."""
    # BEGIN SOLUTION: register, tag, describe, point challenger at it
    version = tracker.register(result.model_uri, name, tags={
        "mltrack.flavor": result.flavor, "mltrack.run_id": result.run_id,
        **{f"val_{k}": f"{v:.4f}" for k, v in result.metrics.items()},
    })
    number = str(version.version)
    tracker.describe_version(name, number, (
        f"{result.flavor} model from run {result.run_id}; validation "
        + ", ".join(f"{k}={v:.3f}" for k, v in sorted(result.metrics.items()))))
    if not tracker.registered_model(name).description:
        tracker.describe_model(name, "Breast-cancer classifier (Wisconsin data); the "
                               "`champion` alias is what serving loads, promoted by "
                               "`mltrack promote` through quality gates.")
    tracker.set_alias(name, "challenger", number)
    result.version, result.model_name = number, name
    return number
    # END SOLUTION
