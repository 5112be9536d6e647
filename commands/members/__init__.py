"""Who a member is: named by a mention, a user id or a display name, and on which platform. Every domain
reads these; they read only storage."""
