"""One router per area of the engine."""
