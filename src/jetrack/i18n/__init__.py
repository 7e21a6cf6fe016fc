"""Translations of the pages and the dashboard: catalogs, the request's language, extraction."""
