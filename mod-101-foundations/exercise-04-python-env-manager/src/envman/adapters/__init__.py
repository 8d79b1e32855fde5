"""One module per external tool: pip/venv, uv, Poetry, conda, container engines."""
