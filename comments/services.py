"""The write side of comments: every change to a comment goes through a function here."""

from django.db import transaction

from .models import Comment


def submit_comment(
    *,
    article,
    parent,
    name,
    email,
    url,
    body,
    ip_address,
    user_agent,
    notify_on_publish,
    status,
    held_reason,
):
    """Store a new comment from the public form, checked against the model's own rules."""
    comment = Comment(
        article=article,
        parent=parent,
        name=name,
        email=email,
        url=url,
        body=body,
        ip_address=ip_address,
        user_agent=(user_agent or "")[: Comment._meta.get_field("user_agent").max_length],
        notify_on_publish=notify_on_publish,
        status=status,
        held_reason=held_reason[: Comment._meta.get_field("held_reason").max_length],
    )
    with transaction.atomic():
        comment.full_clean()
        comment.save()
    return comment
