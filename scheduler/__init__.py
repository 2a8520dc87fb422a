"""The dispatcher: issues due questionnaires, sends and retries email, closes old links.

Plain functions of (session factory, now) so tests drive them with a frozen
clock; APScheduler only ticks them (see scheduler/runner.py). No web code here.
"""
