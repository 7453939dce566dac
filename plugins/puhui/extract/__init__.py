"""Extraction: find, verify and parse what the source systems deliver."""
