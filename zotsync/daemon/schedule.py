"""When the daemon writes the weekly plan, and for which week (pure date maths).

The plan for a week is due from the configured day and hour (default Sunday 18:00) before it;
it is the week ``zotsync plan`` would pick on that day. Counting from the latest such moment
that has passed means a machine that slept through Sunday writes the current week's plan when
it wakes on Monday. A week that ends today is never worth a plan: a daemon first started on a
Sunday before the hour would otherwise plan the week that is ending, and its papers would be
picked again for the coming week. It plans the coming week instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from zotsync.config import WEEKDAYS, Config
from zotsync.library.weeks import default_week, week_days


def due_plan_week(now: datetime, config: Config) -> str:
    """The ISO week whose plan should exist at ``now`` (see the module docstring)."""
    week = default_week(last_plan_moment(now, config).date())
    if week_days(week)[-1] <= now.date():  # the week ends today: plan the coming one
        week = default_week(now.date())
    return week


def last_plan_moment(now: datetime, config: Config) -> datetime:
    """The latest configured plan day/hour at or before ``now``."""
    day_index = WEEKDAYS.index(config.plan.day)
    moment = now.replace(hour=config.plan.hour, minute=0, second=0, microsecond=0)
    moment -= timedelta(days=(now.weekday() - day_index) % 7)
    if moment > now:
        moment -= timedelta(days=7)
    return moment


def next_plan_moment(now: datetime, config: Config) -> datetime:
    """When the daemon will next write a weekly plan (for ``zotsync status``)."""
    return last_plan_moment(now, config) + timedelta(days=7)
