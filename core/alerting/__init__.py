"""Alerting: rules over monitoring metrics, the alert state machine, silences and
notification channels (see `core.alerting.manager` for which module holds what)."""

from core.alerting.channels import Channels, ConsoleChannel
from core.alerting.manager import AlertManager
from core.alerting.types import (
    Alert,
    AlertStatus,
    Delivery,
    DeliveryReport,
    Silence,
    Transition,
)
from core.domain import AlertRule

__all__ = [
    "Alert",
    "AlertManager",
    "AlertRule",
    "AlertStatus",
    "Channels",
    "ConsoleChannel",
    "Delivery",
    "DeliveryReport",
    "Silence",
    "Transition",
]
