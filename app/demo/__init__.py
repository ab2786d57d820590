"""`mlc demo`: a demo fleet built through the engine, and live traffic for it.

`build_demo(engine, progress)` sets up the models, versions, deployments, A/B test and alert
rules; `TrafficSimulator(engine, scenario.sources, …)` then sends predictions and delayed
labels through the real prediction path, with a drift episode that fires an alert.
"""

from app.demo.feed import TrafficSource
from app.demo.scenario import CREDIT, DELIVERY, RULES, DemoScenario, build_demo
from app.demo.traffic import TrafficSimulator, TrafficStats

__all__ = [
    "CREDIT",
    "DELIVERY",
    "RULES",
    "DemoScenario",
    "TrafficSimulator",
    "TrafficSource",
    "TrafficStats",
    "build_demo",
]
