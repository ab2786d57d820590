"""Pure statistics over arrays: data drift against a stored reference, stream change detectors."""
