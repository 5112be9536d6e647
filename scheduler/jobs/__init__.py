"""The worker's jobs: the follow-up sweep and the meetings' duties (agenda drafts and publishing)."""
