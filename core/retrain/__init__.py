"""Retrain policies: an alert that fires starts a training job, then optionally a canary
(`core.retrain.service`)."""

from core.retrain.service import RetrainPolicies, RetrainPolicy

__all__ = ["RetrainPolicies", "RetrainPolicy"]
