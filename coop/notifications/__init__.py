"""Notifications (CONTRACT §12): the outbox written in the changing transaction, the in-app
inbox, WeChat subscribe messages and the access token every worker shares.

    events.py    audit actions → who is told what (the listener create_app plugs into audit)
    outbox.py    writes the inbox rows and, for WeChat-bound users, their delivery rows
    inbox.py     GET /me/notifications, mark read, POST /me/subscriptions
    wechat.py    stable_token (shared through a database row) and subscribeMessage.send
    templates.py WeChat template fields: which value goes where, trimmed to WeChat's limits
    sender.py    `flask notify send`: claim due deliveries with a lease, send, retry, record
"""
