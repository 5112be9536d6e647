"""Forms: each command's form declared once (table.py), opened and checked the same way on every platform
(submission.py)."""
