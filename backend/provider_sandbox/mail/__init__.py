"""The sandbox's mail catcher: a real SMTP sink (sink.py), its messages (mailbox.py) and pages (pages.py).

Shared plumbing like the control API, not an emulated payment provider: stripe/ and truemed/ never use it.
"""
