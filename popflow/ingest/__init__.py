"""Ingest: validate, pseudonymise and commit input files to the lake."""
