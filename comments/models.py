import hashlib
import re
import secrets
import string
import unicodedata
from itertools import batched
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Count, F, Max, Min, Q, Value
from django.db.models.functions import Coalesce, Upper
from django.urls import reverse
from django.utils.html import format_html

from articles.models import Article
from newsroom.control_characters import CONTROL_CHARACTER

USER_AGENT_MAX_LENGTH = 300
# A commenter's website as typed (the form's limit), and as stored: the form writes
# "example.com" as "https://example.com", so the column has room for the scheme on top.
WEBSITE_TYPED_MAX_LENGTH = 200
WEBSITE_MAX_LENGTH = WEBSITE_TYPED_MAX_LENGTH + len("https://")
# 128 random bits, as URL-safe base64 (22 characters): the unsubscribe link's whole token.
UNSUBSCRIBE_KEY_BYTES = 16
UNSUBSCRIBE_KEY_MAX_LENGTH = 32
# What could be an email address within a name: an @ with something around it, up to a
# space or the brackets and quotes an address is written between ("Ada <ada@example.com>"),
# or a quoted local part before it ("ada lovelace"@example.com). An unquoted one starts only
# where such a word does (the lookbehind): tried from each of a word's letters in turn, a
# long word without an address cost time growing with its length squared (a 200 KB name
# posted by a bot held a worker for minutes), for the same matches. After the @, a server's
# address in brackets (an address literal: ada@[192.0.2.1]) is a domain too.
ADDRESS_ENDS = r"\s<>()\[\]{}\"',;:"
EMAIL_LIKE = re.compile(
    rf'(?:"[^"\r\n]*"|(?<![^{ADDRESS_ENDS}])[^{ADDRESS_ENDS}]+)'
    rf"@(?:\[[^\]\s]*\]|[^{ADDRESS_ENDS}]+)"
)
# How RFC 5321 opens an IPv6 address literal (ada@[IPv6:2001:db8::1]), which Django's
# validate_email reads only without it.
IPV6_LITERAL_TAG = re.compile(r"^\[ipv6:", re.IGNORECASE)
# What ends a sentence after an address or a number, in Chinese and Japanese too.
SENTENCE_ENDS = ".!?\u3002"
NOT_ASCII = re.compile(r"[^\x00-\x7f]")
DOTS_IN_A_ROW = re.compile(r"\.{2,}")
# The characters that read as an @ once in compatibility form (NFKC).
AT_SIGNS = {"@", "\ufe6b", "\uff20"}
# What SQLite's UPPER() capitalises: ASCII's letters alone.
SQLITE_CAPITALS = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def commenter_digest(email):
    """An address as a fixed-length digest, in any letter case as Python folds it: what
    DeletedComment rows written before migration 0015 alone hold of it."""
    return hashlib.blake2b(email.strip().casefold().encode(), digest_size=16).hexdigest()


def commenter_key_digest(key):
    """A commenter's key (commenters(): their address in capitals, as the database writes
    it) as a fixed-length digest: what DeletedComment keeps of it, and what flood control
    counts them under in Redis (comments.ratelimit), which tells commenters
    apart as their live comments are told apart, where commenter_digest() joined "ß" and
    "ss" and split the dotless "i" from "i", which PostgreSQL writes alike in capitals."""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def deleted_comment_key_digests(key, email):
    """The key digests a commenter's DeletedComment rows may hold (their key, as commenters()
    gives it, and an address of theirs): their key's, and, for rows a site moved from SQLite to
    PostgreSQL brought along, their address's in SQLite's capitals (ASCII's alone), which
    differ for an address beyond ASCII ("ADA@éLODIE.FR", where PostgreSQL writes "É"). The
    rows hold no address to write the key again from. Never another commenter's: addresses
    alike in SQLite's capitals differ only in their ASCII letters' case."""
    return {commenter_key_digest(key), commenter_key_digest(email.translate(SQLITE_CAPITALS))}


def commenter_keys(addresses, *, using=DEFAULT_DB_ALIAS):
    """{address: its commenter's key}: each address in capitals as the database's UPPER()
    writes it, by which by_email() and commenters() tell commenters apart. Python's
    str.upper() writes some letters otherwise ("ß" as "SS"; SQLite capitalises only ASCII).
    Asked of the database without a table (the addresses of comments deleted already, of a
    commenter with none left): one query, or one per lot of SQLite's parameter limit."""
    addresses = list(dict.fromkeys(addresses))
    connection = connections[using]
    keys = {}
    for lot in batched(addresses, connection.features.max_query_params or len(addresses) or 1):
        rows = ", ".join(["(%s)"] * len(lot))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT column1, UPPER(column1) FROM (VALUES {rows}) AS addresses",  # noqa: S608 (placeholders only)
                lot,
            )
            keys.update(cursor.fetchall())
    return keys


# The only addresses a commenter's website is linked by. The form takes no other, yet a row
# it did not write (an import, a script) could hold a javascript: address, which would run in
# the page of whoever clicked the name: a reader, or a moderator in the admin.
LINKED_SCHEMES = frozenset({"http", "https"})


def website_is_linkable(url):
    """Whether a commenter's website may be the link on their name: a web address, without
    an email address in it (website_names_someone)."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return False
    return scheme.lower() in LINKED_SCHEMES and not website_names_someone(url)


def website_names_someone(url):
    """Whether a website address has a name and @ before its host (https://ada@example.com):
    no site asks readers to type one, and it is how an email address typed in the form's
    Website box reads once the form has put https:// in front of it. Published as the link
    on the commenter's name, it would show the address the Email box promises to keep."""
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:  # no address at all (the form refuses these): nothing to link either
        return True


def as_read(text):
    """`text` as an address in it reads (to a reader, or a harvester): in compatibility form
    (NFKC: the full-width "\uff20" and "\uff0e" of an East Asian keyboard read as "@" and
    "."), its percent-escapes decoded ("mailto:ada%40example.com", as a link writes it),
    without the invisible characters of Unicode's "format" category (a zero-width space, a
    direction mark, a soft hyphen), which pasted text brings along and nobody reads."""
    visible = "".join(char for char in unquote(text) if unicodedata.category(char) != "Cf")
    return unicodedata.normalize("NFKC", visible)


def email_addresses_in(text):
    """The email addresses written in `text` (a name), as_read; a name with an @ that is no
    address ("Ada @ the harbour", "@ada@home") has none."""
    addresses = []
    for candidate in EMAIL_LIKE.findall(as_read(text)):
        candidate = candidate.rstrip(SENTENCE_ENDS)  # the end of a sentence, not of the address
        if is_email_address(candidate):
            addresses.append(candidate)
    return addresses


def is_email_address(candidate):
    """Whether mail can be sent to `candidate`, as Django's validate_email judges it, and
    also where mail servers deliver although it refuses: letters beyond ASCII before the @
    ("ädä@", "用户@": RFC 6531), a space between the local part's quotes (RFC 5321), dots in
    a row or before the @ (the addresses Japanese mobile carriers gave out until 2009,
    "taro..yamada@docomo.ne.jp", "taro.@ezweb.ne.jp", still delivered), dots before the
    address (an ellipsis, "…ada@", ends no word in an address), an IPv6 address literal
    as RFC 5321 tags it ("[IPv6:2001:db8::1]"), and the full stop Chinese and Japanese
    keyboards type for "." between the domain's labels (IDNA). Each is
    checked as the ASCII characters that take its place in the grammar (a letter, a dot).

    The top-level domain must be in ASCII (xn-- included): a Japanese nickname may put a
    status after a full-width @ ("みか\uff20低浮上\u3002たまに浮上": "Mika, rarely around"),
    which reads as an address in a top-level domain of Japanese script otherwise, and no list
    of real domains is at hand. The rare address with a top-level domain in another script
    goes unseen."""
    local, _, domain = candidate.rpartition("@")
    local = NOT_ASCII.sub("x", local)
    if local.startswith('"'):
        local = local.replace(" ", "x")
    else:
        local = DOTS_IN_A_ROW.sub(".", local).strip(".")
    domain = IPV6_LITERAL_TAG.sub("[", domain.replace("\u3002", "."))
    if not domain.rpartition(".")[2].isascii():
        return False
    try:
        validate_email(f"{local}@{domain}")
    except ValidationError:
        return False
    return True


# Unicode's paragraph separators (bidirectional class B): the line's direction starts over
# after one, whatever isolate it was in.
PARAGRAPH_SEPARATOR = re.compile("[\n\r\x1c-\x1e\x85\u2029]")
ISOLATE_STARTS = "\u2066\u2067\u2068"
ISOLATE_END = "\u2069"
ISOLATES = ISOLATE_STARTS + ISOLATE_END


def name_as_shown(name):
    """A commenter's name as readers see it: an email address in it, saved before the form
    refused them ("Ada <ada@example.com>"), shows only the part before its @ (and the name
    as_read, as the address was found, without the control characters its escapes may
    have held, "%0A" or "%00", which the form refuses in a name)."""
    if not AT_SIGNS.intersection(name) and "%" not in name:  # nearly every name: no regex
        return name
    addresses = email_addresses_in(name)
    if not addresses:
        return name
    name = as_read(name)
    for address in addresses:
        name = name.replace(address, address.rpartition("@")[0])
    return CONTROL_CHARACTER.sub(" ", name)


def isolated(text):
    """Text a reader wrote, inside a sentence of plain text (a message, a page's title),
    between the isolates <bdi> stands for in HTML (U+2068, U+2069): a name ending in a
    right-to-left override, or in Arabic or Hebrew, turned the rest of the sentence around
    (".maps sa dekram")."""
    return f"\u2068{held_within_its_isolate(text)}\u2069"


def in_bdi(text):
    """Text a reader wrote, inside a line of a page, as isolated() writes it in plain text."""
    return format_html("<bdi>{}</bdi>", held_within_its_isolate(text))


def held_within_its_isolate(text):
    """The text, with nothing in it that ends the isolate put around it (<bdi>, isolated())
    before its end: a U+2069 closing no isolate of its own closes that one, and a paragraph
    separator (U+2029) ends every isolate; the public form takes both, and a right-to-left
    override after either turned the rest of the moderator's line around all the same. An
    isolate the text opens and leaves open is closed at its end, or it took the end of the
    one around the text for its own, and an override before it went on past the text. The
    separator shows as a space, as a line break in a line of a page does."""
    text = PARAGRAPH_SEPARATOR.sub(" ", text)
    if not any(isolate in text for isolate in ISOLATES):  # nearly every name: no loop
        return text
    kept, open_isolates = [], 0
    for char in text:
        if char in ISOLATE_STARTS:
            open_isolates += 1
        elif char == ISOLATE_END:
            if not open_isolates:
                continue
            open_isolates -= 1
        kept.append(char)
    return "".join(kept) + ISOLATE_END * open_isolates


def is_id(raw):
    """Whether `raw` is an id (a comment's, an article's) as the site writes it: ASCII digits
    within the database's integers, 64 bits (BigAutoField). str.isdigit() alone takes "²";
    int() alone reads "1.0", " 1", "+1" and an Arabic-Indic "1" as 1, and refuses over 4,300
    digits; SQLite's driver cannot pass an int past 64 bits (OverflowError), where Django's
    own checks cover only `=` and comparisons, not `IN`."""
    return (
        raw.isascii()
        and raw.isdigit()
        and len(raw) <= len(str(models.BigIntegerField.MAX_BIGINT))
        and int(raw) <= models.BigIntegerField.MAX_BIGINT
    )


def new_unsubscribe_key():
    return secrets.token_urlsafe(UNSUBSCRIBE_KEY_BYTES)


class CommentQuerySet(models.QuerySet):
    def approved(self):
        """The one definition of what the public may see."""
        return self.filter(status=Comment.Status.APPROVED)

    def pending(self):
        return self.filter(status=Comment.Status.PENDING)

    def by_email(self, email):
        """Comments sent from this address, in any letter case.

        Written as UPPER() on both sides (what `iexact` means on PostgreSQL) so that both
        databases read it from `comment_email_idx`; SQLite's `iexact` is a LIKE no index
        serves.
        """
        return self.alias(email_upper=Upper("email")).filter(email_upper=Upper(Value(email)))

    def commenters(self):
        """The authors of these comments, told apart as by_email() tells them: {their address
        in capitals, as the database writes it: one address they sent, as stored}, in that
        order.

        The database says which addresses are one commenter's, not Python: str.upper() and
        str.lower() write some letters otherwise than its UPPER() ("ß" as "SS", a Turkish
        "İ" in small letters as "i" and a dot; SQLite capitalises only ASCII). Grouped by
        Python, two commenters' comments went into each one's export, and a commenter
        written in small letters matched none of their own, to export or to erase."""
        found = (
            self.exclude(email="")
            .order_by()
            .values(email_upper=Upper("email"))
            .annotate(address=Min("email"))
            .values_list("email_upper", "address")
        )
        return dict(sorted(found))

    def by_commenters(self, keys):
        """Comments of the commenters of these keys (commenters()), each with its own key."""
        return self.annotate(email_upper=Upper("email")).filter(email_upper__in=keys)

    def unsubscribe_key_for(self, email):
        """The key this address's comments already share, or a new one for its first."""
        existing = (
            self.by_email(email)
            .exclude(unsubscribe_key="")
            .order_by()
            .values_list("unsubscribe_key", flat=True)[:1]
        )
        return next(iter(existing), None) or new_unsubscribe_key()

    def sent_before(self, email, *, matching):
        """What a new comment from `email` needs of the address's earlier ones: how many of
        them match `matching` (a Q: the duplicate check), the unsubscribe key they share, or
        a new one for the address's first, and the commenter's key (commenters()), which
        flood control counts them under.

        One read of the address's rows through `comment_email_idx`, where a query for each
        made every post two round trips: the duplicate check reads all of them anyway when
        none matches, as it almost never does. Of keys that differ (two first comments sent
        at once), the greatest, as good as any; a blank one (demo rows, an erasure) is the
        least, so never taken over a real one.
        """
        found = self.by_email(email).aggregate(
            matches=Count("pk", filter=matching),
            key=Max("unsubscribe_key"),
            # The address in capitals, in the same query (aggregate() takes aggregates alone):
            # its rows', all alike, or, for its first comment, the address's own.
            commenter=Coalesce(Max(Upper("email")), Upper(Value(email))),
        )
        return found["matches"], found["key"] or new_unsubscribe_key(), found["commenter"]


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SPAM = "spam", "Spam"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254, help_text="Never published.")
    url = models.URLField("website", max_length=WEBSITE_MAX_LENGTH, blank=True)
    body = models.TextField(max_length=5000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    held_reason = models.CharField(
        "why held", max_length=200, blank=True, help_text="The rule that held or flagged it."
    )
    notify_on_publish = models.BooleanField(
        default=False, help_text="The commenter asked for an email when it is published."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderated_comments",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    # What the unsubscribe link in the commenter's emails names: the same for every comment
    # from the address, so the link outlives the comment it came with (deleted by an editor,
    # with its article, or with the comment it answered) while any of theirs remains. Random,
    # so neither the link nor the gunicorn log that records it says anything of the address,
    # even to someone holding the secret key; unsigned, so rotating that key leaves it valid.
    # Erasure clears it (privacy.py): nothing then ties the anonymised comments together.
    # Blank on rows inserted around save() (the demo's), which notifications.unsubscribe_token
    # fills; a default in the database, so those inserts need not name the column.
    unsubscribe_key = models.CharField(
        max_length=UNSUBSCRIBE_KEY_MAX_LENGTH, blank=True, db_default="", editable=False
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("moderate_comment", "Can moderate comments")]
        constraints = [
            models.CheckConstraint(
                name="comment_status_valid",
                condition=Q(status__in=["pending", "approved", "rejected", "spam"]),
            ),
        ]
        indexes = [
            models.Index(fields=["article", "status", "created_at"], name="comment_thread_idx"),
            # An article's approved top-level comments in order, read alone (thread.top_level):
            # a page of a long discussion counts and finds its threads without its replies.
            models.Index(
                fields=["article", "status", "parent", "created_at", "id"],
                name="comment_top_level_idx",
            ),
            models.Index(fields=["status", "created_at"], name="comment_queue_idx"),
            models.Index(Upper("email"), F("status"), name="comment_email_idx"),
            # Flood control counts an address's recent comments when Redis does not.
            models.Index(fields=["ip_address", "created_at"], name="comment_ip_idx"),
            models.Index(fields=["unsubscribe_key"], name="comment_unsubscribe_idx"),
        ]

    def __str__(self):
        """Without the article's title, which a moderator may not see (an article withdrawn
        since): the admin's headings, messages and recent actions show this, the name
        isolated from the words around it (isolated)."""
        return f"Comment by {isolated(self.name)}"

    def save(self, *args, **kwargs):
        """A comment from an address joins the key its other comments share (the
        address's first gets a new one), so the link from any of its emails stops them all.
        One that asks for no email too: once the comment an email was about is deleted, it
        holds the key for the next that asks, which that link stops. A query, unless the
        caller has read the key already (the form's post, with its duplicate check)."""
        if self.email and not self.has_unsubscribe_key():
            self.unsubscribe_key = Comment.objects.unsubscribe_key_for(self.email)
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "unsubscribe_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        """On the page of the discussion that shows it now (long threads are paginated).

        Worked out at once, so right only for now: the admin's "View on site", which asks
        at the click. A link that outlives the moment (an email) is get_permalink().
        """
        from .thread import comment_url

        return comment_url(self, self.article.get_absolute_url())

    @property
    def public_name(self):
        return name_as_shown(self.name)

    def get_permalink(self):
        """The comment's lasting address: it redirects to the page that shows the comment
        when followed, however the discussion has been paginated or moderated since."""
        return reverse("comments:permalink", kwargs={"pk": self.pk})

    def has_unsubscribe_key(self):
        # Unsaved, a comment holds the column's database default: an expression, not "".
        return isinstance(self.unsubscribe_key, str) and bool(self.unsubscribe_key)


class DeletedCommentQuerySet(models.QuerySet):
    def of_commenters(self, commenters):
        """The rows of these commenters ({key: an address of theirs}, as commenters() gives
        them): by their key's digests (deleted_comment_key_digests), and, among rows from
        before it (blank), by their address's old digest; never a new row by the old digest,
        which joins "ß" and "ss"."""
        key_digests = [
            digest
            for key, email in commenters.items()
            for digest in deleted_comment_key_digests(key, email)
        ]
        return self.filter(
            Q(commenter_key__in=key_digests)
            | Q(
                commenter_key="",
                commenter__in=[commenter_digest(email) for email in commenters.values()],
            )
        )


class DeletedComment(models.Model):
    """Whose address wrote a comment since deleted, as digests of it.

    The admin log keeps a deleted comment's entries, its deletion, decisions and edits, and
    they name the commenter ("Comment by Ada") for moderators reading who did what. Erasing
    the address must still find them, once nothing else ties them to it: it scrubs them and
    deletes the row (privacy.erase_commenter_data). Written by every deletion of a comment
    with an address (signals.py): in the admin, with its article, by purge_spam. Digests,
    not the address: a row outlives the comment, and needs only to be found by it.

    Found by `commenter_key`, the digest of the commenter's key, as the database tells
    commenters apart (or as SQLite did, on a site moved from it to PostgreSQL). Rows written
    before migration 0015 have none, only `commenter` (commenter_digest(), Python's
    casefold), and are found by it alone: one of "ß" or "ss" still finds the other's, and on
    PostgreSQL a dotless "i" misses "i"'s. New rows hold it too, so that code from before
    0015 (a deploy rolled back) still finds them."""

    # The deleted comment's id, which its log entries hold as their object_id. Not the key:
    # an id taken again by another commenter's comment (a backup restored over a reset
    # sequence) has entries naming both, and each one's erasure must find them.
    comment_id = models.BigIntegerField()
    commenter = models.CharField(max_length=32)  # commenter_digest() of its address
    # commenter_key_digest() of its commenter's key; blank on rows from before it, and on
    # rows the code from before it writes (the database's default: a deploy rolled back).
    commenter_key = models.CharField(max_length=32, blank=True, db_default="")

    objects = DeletedCommentQuerySet.as_manager()

    class Meta:
        constraints = [
            # An erasure reads a commenter's rows from it, by their key's digest (or a blank
            # one and the old digest), not from a scan of every deletion.
            models.UniqueConstraint(
                fields=["commenter_key", "commenter", "comment_id"], name="deleted_comment_once"
            )
        ]

    def __str__(self):
        return f"Deleted comment {self.comment_id}"


class BackgroundDecision(models.Model):
    """A moderator's decision on more comments than a request can take, while the task takes
    it (services.moderate_later) and until the moderator has been told how it ended.

    The task's own result is no place for that: the default backend keeps none, and the
    database queue's holds only whether the task is waiting, running or done (which the
    list reads, through task_id). The comments list tells the moderator at their next
    look (admin.CommentAdmin.tell_background_decisions), in the session that took it or in
    any they sign in to afterwards, then the row goes: each comment's log entry stays as
    the record of what was decided. One never told of its end (the moderator did not look
    again, or it was told as stopped) is deleted by the first decision queued once it is
    services.BACKGROUND_DECISIONS_KEPT old."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended"
        FAILED = "failed", "Failed"

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="background_decisions"
    )
    target = models.CharField(max_length=10, choices=Comment.Status.choices)
    comment_count = models.PositiveIntegerField()
    queued_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # How it ended: moved to `target`, already there, left as someone else decided (or
    # deleted) meanwhile, and, of those now approved, how many readers still cannot see.
    changed = models.PositiveIntegerField(default=0)
    already = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)
    hidden = models.PositiveIntegerField(default=0)
    # Told as probably stopped (admin.background_state): its row stays for a worker that was only
    # late, and the moderator, told to decide the rest again, hears no more of it, in this
    # session or after signing in again.
    told_as_stopped = models.BooleanField(default=False)
    # The task's id in a queue that keeps its results (the database queue), whose status tells
    # whether a worker has taken it up yet; blank with the default backend, which keeps none.
    task_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="background_decision_state_valid",
                condition=Q(state__in=["running", "ended", "failed"]),
            ),
        ]
        # The old rows, deleted at each new decision, are read from it, not from a scan of
        # every row nobody was told of.
        indexes = [models.Index(fields=["queued_at"], name="background_decision_queued")]

    def __str__(self):
        return f"{self.comment_count} comments to {self.target} ({self.state})"


class PublicationAnnouncement(models.Model):
    """A scheduled article's publication, whose comments' "published" emails are still to go.

    A scheduled article goes live by itself, with no save to send what its commenters are
    owed (comments approved while readers could not see it): the row says when. At that time
    the database queue's task, or with the default backend the first request after it
    (notifications.announce_due_publications), claims the row by deleting it; whoever the
    database lets delete it sends the emails, and nobody else does, however many workers
    and servers reach the moment together. One row per article, moved when it is scheduled
    again."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    due_at = models.DateTimeField()

    class Meta:
        # The next moment due, and the rows due, are read from it.
        indexes = [models.Index(fields=["due_at"], name="publication_announcement_due")]

    def __str__(self):
        return f"Emails owed on article {self.article_id} at {self.due_at:%Y-%m-%d %H:%M}"
