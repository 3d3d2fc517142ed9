"""django-axes counting admin sign-in failures in Redis, and in the database while Redis is down.

Redis shares the count between app servers. When it cannot be reached, the cache handler's
counter raises; the database is shared by every app server too, so it keeps the count and
an outage neither breaks sign-in (a 500 on a wrong password) nor lifts the limit.
"""

import logging

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.database import AxesDatabaseHandler

from newsroom.cache import UNREACHABLE

logger = logging.getLogger(__name__)


class AxesCacheWithDatabaseFallback(AxesCacheHandler):
    fallback = AxesDatabaseHandler()

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except UNREACHABLE:
            logger.warning("Redis is unreachable: counting sign-in failures in the database.")
            self.fallback.user_login_failed(sender, credentials, request, **kwargs)
        # The cache handler shows the lockout page only when its own count reaches the limit;
        # a lockout counted in the database while Redis was down would otherwise be
        # answered as a wrong password, the right one included.
        if request is not None and self.is_locked(request, credentials):
            request.axes_locked_out = True

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False):
        """Lifts a lockout (axes_reset_ip, axes_reset_username) wherever it was counted: in
        Redis, and in the database should Redis have been down meanwhile."""
        scope = {"ip_address": ip_address, "username": username, "ip_or_username": ip_or_username}
        if ip_address is None and username is None:  # axes_reset: every lockout
            return self._forget_every_count_in_redis() + self.fallback.reset_attempts(**scope)
        return super().reset_attempts(**scope) + self.fallback.reset_attempts(**scope)

    def _forget_every_count_in_redis(self):
        """The cache handler refuses to: its keys are digests, found only by their prefix."""
        client = self.cache._cache.get_client(write=True)
        try:
            keys = list(client.scan_iter(match=self.cache.make_key("axes-*")))
            if keys:
                client.delete(*keys)
        except UNREACHABLE:
            logger.warning(
                "Redis is unreachable: the sign-in failures counted there stay; run the reset "
                "again once it is back."
            )
            return 0
        return len(keys)

    def get_failures(self, request, credentials=None):
        return max(
            super().get_failures(request, credentials),
            self.fallback.get_failures(request, credentials),
        )

    # The fallback's AccessAttempt rows send these signals to the configured handler.
    def post_save_access_attempt(self, instance, **kwargs):
        self.fallback.post_save_access_attempt(instance, **kwargs)

    def post_delete_access_attempt(self, instance, **kwargs):
        self.fallback.post_delete_access_attempt(instance, **kwargs)
