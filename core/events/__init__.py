"""Prediction events and actuals, below the capabilities that produce and read them.

Serving logs every request through the `EventWriter` and monitoring ingests log-only events
and actuals through it; both check what clients send with `fields` and `frames`. The engine
builds one writer and hands it to each, so neither capability imports the other.
"""
