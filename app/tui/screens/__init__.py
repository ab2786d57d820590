"""One module per console view; `base.ResourceScreen` holds what they share."""
