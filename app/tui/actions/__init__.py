"""Dangerous actions shared by several views: load the facts, confirm them, then act."""
