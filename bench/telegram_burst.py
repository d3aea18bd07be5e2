"""Scenario: Telegram's own limit (issue 23). 10,000 reminders to 10,000 chats fall due in one
minute; the relay (telegram/relay.py, its pacer telegram/pacing.py) sends them through a real
Telethon client to a fake Telegram that keeps the real limits (30 a second in all, one a
second per chat) and refuses past them with FloodWait (tests/telegram/limited_telegram.py).

Rows: how long after the relay began the last one goes out, against the physical floor
(10,000 / 30 a second, 333 s; budget 1.1 x + 1 s to start), FloodWaits raised (0), messages
sent twice (0), rows left unsent (0), and the order: messages sent before an older due one
(0). At scale 1 it takes about six minutes, nearly all of it waiting for the limit.
"""

import asyncio
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from bench import data, sql
from bench.report import Result, Row, seconds
from telegram.relay import Relay
from tests.telegram.limited_telegram import LimitedTelegram, limited_client

NAME = "telegram_burst"
REMINDERS = 10_000
SPREAD = timedelta(minutes=1)
BUDGET_FACTOR = 1.1
# The relay's first claim and connections, which a small run does not amortize.
START_SECONDS = 1.0
TABLES = ("accounts_user", "habits_habit", "instances_habitinstance", "telegram_telegramprofile",
          "telegram_outboxmessage")  # fmt: skip

logger = logging.getLogger("bench")

PROFILES_SQL = """
INSERT INTO telegram_telegramprofile (user_id, telegram_id, access_hash, username, bound_at)
SELECT id, 1000000000 + id, 1, '', %(now)s FROM accounts_user
"""
# One reminder per pending instance, due over the minute before the relay looks, in an order
# that is not the order of the row ids (due order = instance id * 7919 mod n).
OUTBOX_SQL = """
INSERT INTO telegram_outboxmessage
    (kind, instance_id, telegram_id, access_hash, text, offset_minutes, created_at,
     next_attempt_at, attempts, last_error)
SELECT 'reminder', i.id, p.telegram_id, p.access_hash, '', 0, %(now)s,
       %(start)s + (%(spread)s::float8 * ((i.id * 7919) %% %(n)s) / %(n)s)
                   * interval '1 second',
       0, ''
FROM instances_habitinstance i
JOIN telegram_telegramprofile p ON p.user_id = i.user_id
"""
DUE_ORDER_SQL = """
SELECT telegram_id FROM telegram_outboxmessage ORDER BY next_attempt_at, id
"""
UNSENT_SQL = "SELECT count(*) FROM telegram_outboxmessage WHERE sent_at IS NULL"


def _fill(count: int, now: datetime) -> list[int]:
    data.reset()
    sql.execute("TRUNCATE telegram_outboxmessage, telegram_telegramprofile RESTART IDENTITY")
    data.fill_users(count, now)
    data.fill_habits(count, count, now)  # one habit a user, each its own chat
    sql.execute(PROFILES_SQL, {"now": now})
    data.fill_pending(now)
    start = now - SPREAD
    sql.execute(OUTBOX_SQL, {"now": now, "start": start, "spread": SPREAD.total_seconds(),
                             "n": count})  # fmt: skip
    sql.settle(*TABLES)
    return [chat for (chat,) in sql.fetch(DUE_ORDER_SQL)]


async def _burst(telegram: LimitedTelegram) -> tuple[int, float]:
    relay = Relay(limited_client(telegram))
    started = time.monotonic()
    sent = await relay.deliver_due()
    return sent, started


def _out_of_order(sent: list[int], due: list[int]) -> int:
    """Messages that went out before a message due earlier than them."""
    rank = {chat: i for i, chat in enumerate(due)}
    latest, late = -1, 0
    for chat in sent:
        if rank[chat] < latest:
            late += 1
        latest = max(latest, rank[chat])
    return late


def run(scale: float) -> Result:
    count = max(100, round(REMINDERS * scale))
    per_second = settings.TELEGRAM_SENDS_PER_SECOND
    label = f"{NAME}, {count:,} reminders due in one minute, {count:,} chats"
    due = _fill(count, timezone.now())
    telegram = LimitedTelegram(
        per_second=per_second, chat_interval=settings.TELEGRAM_CHAT_INTERVAL_SECONDS
    )
    logger.info("%s: sending at %s a second", label, per_second)
    sent, started = asyncio.run(_burst(telegram))
    connections.close_all()
    last = telegram.accepted[-1].at - started if telegram.accepted else float("inf")
    floor = count / per_second
    budget = BUDGET_FACTOR * floor + START_SECONDS
    unsent = sql.scalar(UNSENT_SQL)
    order = _out_of_order(telegram.chats(), due)
    rows = [
        Row(label, "last one out, after the relay began (floor: n / 30 a second)",
            f"{seconds(last)} (floor {seconds(floor)})", f"≤ {seconds(budget)}", last <= budget),
        Row(label, "FloodWaits raised by Telegram", str(len(telegram.flood_waits)), "0",
            not telegram.flood_waits),
        Row(label, "messages sent twice", str(telegram.sent_twice()), "0",
            telegram.sent_twice() == 0),
        Row(label, "reminders not sent (dropped)", f"{unsent} of {count:,} ({sent:,} sent)", "0",
            unsent == 0),
        Row(label, "sent before an older due one (oldest first)", str(order), "0", order == 0),
    ]  # fmt: skip
    return Result(rows)
