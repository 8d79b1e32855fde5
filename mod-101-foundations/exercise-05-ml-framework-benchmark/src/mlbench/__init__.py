"""mlbench: fair PyTorch / TensorFlow / JAX benchmarks."""

__version__ = "0.1.0"
