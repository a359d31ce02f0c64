"""Reading a result where the test expects a part to be there."""

from __future__ import annotations

from app.engine import Plan, PlanBlock, Result


def plan_of(result: Result) -> Plan:
    """The result's plan: the test's answers give one."""
    plan = result["plan"]
    assert plan is not None, result["triage"]["level"]
    return plan


def start_of(block: PlanBlock) -> int:
    """The index of the block's start step: a step suits (only 1.0.0 results give a code)."""
    start = block["start_step"]
    assert isinstance(start, int), block["code"]
    return start
