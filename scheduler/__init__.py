"""Time: recurrence and holidays, follow-up rules, the sweep, the worker process."""
