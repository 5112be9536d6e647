"""The unit itself: members and roles, the audit log, key rotation."""
