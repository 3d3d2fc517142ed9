"""Database routing: one model that no command may copy rows of."""


class TagLinkRouter:
    """TagLink reads Article.tags' own table, and the database keeps its copied columns:
    `dumpdata` wrote each link twice (in its article's `tags` and as a TagLink row), and
    `loaddata` stored the article's, then failed on the row's second copy. No rows of it
    are dumped or loaded; an older dump's are passed over."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "articles" and model_name == "taglink":
            return False
        return None
