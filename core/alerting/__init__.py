"""Alerting: rules over monitoring metrics, the alert state machine, silences and
notification channels (see `core.alerting.manager`)."""

from core.alerting.channels import Channels, ConsoleChannel
from core.alerting.manager import AlertManager
from core.alerting.types import (
    Alert,
    AlertStatus,
    Delivery,
    DeliveryReport,
    Rule,
    Silence,
    Transition,
)

__all__ = [
    "Alert",
    "AlertManager",
    "AlertStatus",
    "Channels",
    "ConsoleChannel",
    "Delivery",
    "DeliveryReport",
    "Rule",
    "Silence",
    "Transition",
]
