"""Adapters that put vecbridge collections and embedders into other frameworks (optional extras)."""
