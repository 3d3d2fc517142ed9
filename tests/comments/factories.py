"""People for moderation tests: a moderator, an editor, staff without rights, a reader."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

PASSWORD = "a-test-password"


def make_user(username, *, staff=True, superuser=False, groups=(), email=""):
    user = get_user_model().objects.create_user(
        username,
        email=email or f"{username}@newsroom.test",
        password=PASSWORD,
        is_staff=staff,
        is_superuser=superuser,
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_moderator(username="moira", **fields):
    """A staff member in the "Moderators" group that the data migration created."""
    return make_user(username, groups=["Moderators"], **fields)


def make_editor(username="eddie", **fields):
    return make_user(username, superuser=True, **fields)
