"""Multi Cloud Cost Analyzer."""

__version__ = "0.1.0"
