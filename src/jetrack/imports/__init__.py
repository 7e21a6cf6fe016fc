"""Imports of a site's history from other tools: the registry of imports, the importers."""
