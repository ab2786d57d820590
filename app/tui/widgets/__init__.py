"""Reusable console widgets: they draw what they are given and never load data."""
