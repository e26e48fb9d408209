"""Data in motion: the Faust app, settings, topics, schemas, broker and CLI."""
