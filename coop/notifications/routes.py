"""HTTP routes of the inbox (CONTRACT §12): every caller's own notifications and
WeChat subscription answers. Any logged-in user; the services filter on the caller."""
from __future__ import annotations

from auth.policy import ANY_USER, access, current_user
from coop.api import Blueprint
from coop.extensions import db
from coop.notifications import inbox
from coop.notifications.schemas import (InboxArgs, InboxOut, NoBodyIn, SubscriptionIn,
                                        SubscriptionOut)

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="消息与订阅")


@blp.route("/me/notifications", methods=["GET"])
@access(ANY_USER)
@blp.arguments(InboxArgs, location="query")
@blp.response(200, InboxOut)
def my_notifications(args):
    """The caller's inbox, newest first, with the count of unread messages."""
    return inbox.inbox_page(db.session, current_user().id, args["page"], args["per_page"],
                            args["unread"])


@blp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
@access(ANY_USER)
@blp.arguments(NoBodyIn, required=False)
@blp.response(204)
def read_notification(_, notification_id):
    """Mark one of the caller's notifications read (anybody else's: 404)."""
    inbox.mark_read(db.session, current_user(), notification_id)


@blp.route("/me/subscriptions", methods=["POST"])
@access(ANY_USER)
@blp.arguments(SubscriptionIn)
@blp.response(200, SubscriptionOut)
def subscribe(data):
    """Record what wx.requestSubscribeMessage answered for one template: each acceptance
    lets the server send one message of it."""
    return inbox.record_answer(db.session, current_user(), data["template_key"],
                               data["accepted"])
