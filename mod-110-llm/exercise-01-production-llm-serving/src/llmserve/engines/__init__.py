"""Inference engines behind one interface (`engines.base.Engine`)."""
