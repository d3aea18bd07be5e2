"""Performance benchmarks: `.venv/bin/python -m bench [--only NAME] [--scale 0.01]`.

Each scenario (generation, sweep, reminders, today, stats, sockets, rest, export,
telegram_burst) fills a throwaway PostgreSQL database of its own (`bench_habits_<pid>`,
created and dropped by the run) with set-based SQL and times the production code paths
against the budgets of the performance issue; sockets and rest start real web server
processes (bench/server/) and load them over the loopback only; telegram_burst sends
through a real Telethon client to a fake Telegram that keeps Telegram's limits.
"""
