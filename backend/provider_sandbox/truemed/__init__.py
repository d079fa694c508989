"""The emulated Truemed: its API (`/truemed`), hosted pages (`/pay/truemed`) and forced outcomes
(`/_sandbox/truemed`).

Only this package knows Truemed's words; it imports nothing from stripe/.
"""
