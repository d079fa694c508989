"""The patient's emails: stored in an outbox with the status change that causes them, sent after the commit,
retried by the reconcile job. See docs/architecture.md ("Notifications") and docs/reliability.md."""
