"""Demo content: sections, authors, tags and articles of generated text.

Everything is drawn from a seeded random generator, so two runs give the same site.
The text is assembled from the word lists below (invented places and people), never
copied from real articles. Large counts (benchmarks) write rows straight to the tables
(COPY on PostgreSQL) from a small pool of bodies rendered once, so 100,000 articles take
seconds, not minutes.
"""

import math
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageColor, ImageDraw
from psycopg import sql

from .models import Article, Author, Section, Tag, render_markdown

SEED = 2026
BATCH_SIZE = 2000
BODY_POOL_SIZE = 40

SECTIONS = [
    ("News", "news", "What happened today across the valley and the coast.", 1),
    ("Politics", "politics", "Councils, budgets and the people who decide them.", 2),
    ("Business", "business", "Jobs, shops, harbours and the local economy.", 3),
    ("Science", "science", "Research from our universities, labs and field stations.", 4),
    ("Culture", "culture", "Books, music, theatre and the places that keep them alive.", 5),
    ("Sport", "sport", "Results and stories from the clubs and the grounds.", 6),
    ("Opinion", "opinion", "Arguments from our columnists and our readers.", 7),
]

AUTHORS = [
    ("Maren Holloway", "Covers local government and too many budget meetings."),
    ("Tobias Quayle", "Science correspondent; formerly a field ecologist on the northern marshes."),
    ("Ines Achterberg", "Business reporter: the harbour, the markets and small firms."),
    ("Rafael Oduya", "Culture editor. Reviews books, concerts and village pantomimes."),
    ("Signe Larkspur", "Sport writer who has never missed a home match of the Fernbridge Rovers."),
    ("Camille Brennock", "Senior news reporter on transport, housing and public services."),
    ("Dev Anand Palmer", "Opinion columnist writing about towns, trains and civic life."),
]  # fmt: skip

TAGS = [
    "Housing", "Transport", "Schools", "Health", "Climate", "Budget", "Harbour", "Farming",
    "Libraries", "Elections", "Rivers", "Energy", "Football", "Rowing", "Theatre", "Music",
    "Books", "Startups", "Markets", "Wildlife", "Weather", "Heritage",
]  # fmt: skip

PLACES = [
    "Fernbridge", "Halden Bay", "Marlow Cross", "Oakhythe", "Stennet", "Wyrley Vale",
    "Castle Amber", "Lowmere", "Tarrow Point", "Kilnsey Green", "Brackwater", "Ashby Reach",
]  # fmt: skip
BODIES = [
    "the town council", "residents", "the harbour board", "local traders", "the university",
    "the county planners", "volunteers", "the library trust", "farmers", "the rowing club",
    "parents", "the health board", "shop owners", "the river authority", "the theatre company",
]  # fmt: skip
HEADLINE_SUBJECTS = [
    "council", "harbour board", "university", "library trust", "rowing club", "health board",
    "river authority", "theatre company", "chamber of commerce", "school board",
]  # fmt: skip
ACTIONS = [
    "approve", "reject", "delay", "back", "question", "celebrate", "review", "fund",
    "challenge", "launch", "rethink", "welcome",
]  # fmt: skip
ACTIONS_PAST = {
    "approve": "approves", "reject": "rejects", "delay": "delays", "back": "backs",
    "question": "questions", "celebrate": "celebrates", "review": "reviews", "fund": "funds",
    "challenge": "challenges", "launch": "launches", "rethink": "rethinks", "welcome": "welcomes",
}  # fmt: skip
PROJECTS = [
    "a new ferry timetable", "the riverside cycle path", "plans for a night market",
    "a solar roof on the leisure centre", "the closure of two bus routes",
    "a community orchard", "the restoration of the old mill", "a larger school canteen",
    "a flood barrier on the lower river", "free evening parking", "a late-opening library",
    "a shared workshop for makers", "the summer festival budget", "a new lifeboat station",
    "a survey of nesting birds", "cheaper rents for small shops",
]  # fmt: skip
DETAILS = [
    "the cost would be spread over three years",
    "a public meeting is planned for next month",
    "the idea first came from a petition signed by hundreds of people",
    "work could begin before the end of the year",
    "the figures will be published in full",
    "nobody expected the vote to be so close",
    "a similar scheme worked well in a neighbouring town",
    "the plan still needs approval from the county",
    "opening hours would change only slightly",
    "younger residents were the most enthusiastic",
    "the money comes from a fund set aside years ago",
    "traffic on the main road has doubled since 2010",
]  # fmt: skip
SPEAKERS = [
    "a spokesperson for the council", "the chair of the residents' association",
    "one shop owner on the high street", "a researcher who studied the proposal",
    "the head teacher", "a long-serving volunteer", "the harbour master",
]  # fmt: skip
QUOTES = [
    "We listened, and we changed the plan because of what we heard",
    "It is a small step, but it is the right one",
    "People here want to be asked before things are decided",
    "The numbers only work if everyone plays their part",
    "We will know in a year whether this was worth it",
    "Nobody should have to choose between the bus and their job",
]  # fmt: skip
HEADINGS = [
    "What happens next", "How we got here", "The numbers", "What people are saying",
    "The objections", "A longer view", "What it means for you",
]  # fmt: skip


# (sky top, sky bottom, sun, three hill colours from far to near, alt text)
ILLUSTRATIONS = [
    ("#9cc3e6", "#f3e7c9", "#fff4d6", ("#7fa37a", "#557a52", "#2f4f2f"),
     "Illustration: green hills under a pale morning sky"),
    ("#27304f", "#f08a4b", "#ffd27a", ("#5b3a5e", "#3b2641", "#1d1424"),
     "Illustration: dark hills against an orange sunset"),
    ("#c9d6df", "#eef2f3", "#ffffff", ("#9aa9b5", "#6f8190", "#44525e"),
     "Illustration: grey ridges on an overcast winter day"),
    ("#1f6f8b", "#99c5c4", "#fef6e4", ("#2e8b78", "#1e6b5c", "#0f3d35"),
     "Illustration: a green valley by the coast at midday"),
    ("#f6d186", "#fcf7de", "#ff9a3c", ("#c9a66b", "#a47c48", "#6b4f2a"),
     "Illustration: golden fields rolling towards the horizon"),
    ("#0b1d3a", "#35517a", "#e8e8f0", ("#24395c", "#182a46", "#0b1526"),
     "Illustration: moonlit hills above a sleeping town"),
]  # fmt: skip
IMAGE_SIZE = (1200, 675)
IMAGE_EVERY = 3  # one article in three has a lead image, as in a real paper


def draw_illustration(number):
    """A landscape drawn from a palette: lead images of our own, no stock photos."""
    sky_top, sky_bottom, sun, hills, _ = ILLUSTRATIONS[number]
    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE)
    draw = ImageDraw.Draw(image)
    top, bottom = ImageColor.getrgb(sky_top), ImageColor.getrgb(sky_bottom)
    for y in range(height):
        share = y / height
        colour = tuple(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    shape = random.Random(SEED + number)  # noqa: S311 (repeatable drawing)
    sun_x, sun_y = shape.randint(200, 1000), shape.randint(90, 220)
    draw.ellipse([sun_x - 60, sun_y - 60, sun_x + 60, sun_y + 60], fill=sun)
    for layer, colour in enumerate(hills):
        base = 330 + layer * 110
        phase, wave = shape.uniform(0, math.tau), shape.uniform(0.004, 0.009)
        outline = [
            (x, base + 55 * math.sin(x * wave + phase) + 25 * math.sin(x * wave * 2.7))
            for x in range(0, width + 20, 20)
        ]
        draw.polygon([(0, height), *outline, (width, height)], fill=colour)
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def create_illustrations():
    """The demo lead images as (stored name, alt text); drawn once, then reused."""
    images = []
    for number, palette in enumerate(ILLUSTRATIONS):
        name = f"lead-images/demo/landscape-{number + 1}.jpg"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(draw_illustration(number)))
        images.append((name, palette[-1]))
    return images


class TextGenerator:
    """Plausible local-news prose from a seeded random generator."""

    def __init__(self, seed=SEED):
        self.random = random.Random(seed)  # noqa: S311 (repeatable text, not secrets)

    def pick(self, items):
        return self.random.choice(items)

    def title(self):
        subject, action = self.pick(HEADLINE_SUBJECTS), ACTIONS_PAST[self.pick(ACTIONS)]
        return f"{self.pick(PLACES)} {subject} {action} {self.pick(PROJECTS)}"[:200]

    def standfirst(self):
        return (
            f"{self.pick(BODIES).capitalize()} in {self.pick(PLACES)} said {self.pick(DETAILS)}, "
            f"as debate continues over {self.pick(PROJECTS)}."
        )

    def sentence(self):
        shape = self.random.randrange(4)
        if shape == 0:
            return f"{self.pick(BODIES).capitalize()} said {self.pick(DETAILS)}."
        if shape == 1:
            return f"“{self.pick(QUOTES)},” said {self.pick(SPEAKERS)}."
        if shape == 2:
            return (
                f"In {self.pick(PLACES)}, {self.pick(BODIES)} voted to "
                f"{self.pick(ACTIONS)} {self.pick(PROJECTS)}."
            )
        return f"According to {self.pick(SPEAKERS)}, {self.pick(DETAILS)}."

    def paragraph(self):
        return " ".join(self.sentence() for _ in range(self.random.randint(3, 5)))

    def body(self):
        """Markdown: paragraphs under subheadings, with a list of key points."""
        parts = [self.paragraph(), self.paragraph()]
        for heading in self.random.sample(HEADINGS, self.random.randint(2, 3)):
            parts.append(f"## {heading}")
            parts.extend(self.paragraph() for _ in range(self.random.randint(1, 3)))
        points = "\n".join(f"- {self.pick(DETAILS).capitalize()}." for _ in range(3))
        parts.insert(2, f"Key points:\n\n{points}")
        return "\n\n".join(parts)


def create_sections():
    for name, slug, description, order in SECTIONS:
        Section.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "order": order}
        )
    return list(Section.objects.filter(slug__in=[slug for _, slug, _, _ in SECTIONS]))


def create_authors():
    for name, bio in AUTHORS:
        Author.objects.get_or_create(
            slug=slugify(name), defaults={"display_name": name, "bio": bio}
        )
    return list(Author.objects.filter(slug__in=[slugify(name) for name, _ in AUTHORS]))


def create_tags():
    for name in TAGS:
        Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name})
    return list(Tag.objects.filter(slug__in=[slugify(name) for name in TAGS]))


class SlugMaker:
    """Readable unique slugs: a repeated headline gets -2, -3... without rescanning."""

    def __init__(self, taken):
        self.taken = set(taken)
        self.next_number = {}

    def __call__(self, title):
        base = slugify(title)[:180] or "article"
        slug = base
        while slug in self.taken:
            number = self.next_number.get(base, 2)
            self.next_number[base] = number + 1
            slug = f"{base}-{number}"
        self.taken.add(slug)
        return slug


ARTICLE_COLUMNS = (
    "id", "title", "slug", "standfirst", "body", "body_html", "author_id", "section_id",
    "status", "published_at", "created_at", "updated_at", "lead_image", "lead_image_alt",
    "comments_enabled", "comment_count",
)  # fmt: skip


def insert_rows(model, columns, rows):
    """Insert rows of values for `columns` of the model's table, ready for the database.

    PostgreSQL takes them through one COPY (an INSERT per row spends its time parsing
    statements); elsewhere one `executemany`. At a million rows even compiling
    bulk_create's SQL costs more than storing the rows. Names come from the model, and the
    values travel as parameters or COPY data, never inside the SQL text.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            statement = statement.as_string(connection.connection)  # readable in query logs
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            quote = connection.ops.quote_name
            statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (model metadata only)
                quote(table),
                ", ".join(map(quote, columns)),
                ", ".join(["%s"] * len(columns)),
            )
            cursor.executemany(statement, rows)


def reset_id_sequences(*models):
    """After inserting explicit ids, PostgreSQL's sequences must move past them."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def analyze_tables(*, vacuum=False):
    """After a bulk load, the planner's statistics for every table (ANALYZE): PostgreSQL's
    autovacuum takes them some time later, or never where it is off, and meanwhile plans
    for tables as they were (/section/news/?page=400 took 81 s at 50,000 articles until
    ANALYZE). With `vacuum`, PostgreSQL also clears the dead row versions updates left (a
    VACUUM cannot run in a transaction)."""
    with connection.cursor() as cursor:
        vacuums = vacuum and connection.vendor == "postgresql"
        cursor.execute("VACUUM ANALYZE" if vacuums else "ANALYZE")


@contextmanager
def batch_writer(writers):
    """`write(function, *args)` calls it at once or, with `writers` > 1, on one of that many
    threads, each with its own database connection; leaving waits for every write.

    At most two batches per writer wait, so a fast generator does not hold the whole data
    set in memory.
    """
    if writers <= 1:
        yield lambda function, *args: function(*args)
        return
    waiting = threading.BoundedSemaphore(2 * writers)
    futures = []

    def run(function, *args):
        try:
            function(*args)
        finally:
            connection.close()
            waiting.release()

    with ThreadPoolExecutor(max_workers=writers) as pool:

        def write(function, *args):
            waiting.acquire()
            futures.append(pool.submit(run, function, *args))

        yield write
    for future in futures:
        future.result()  # a failed batch raises here


def insert_articles(articles, links):
    with transaction.atomic():
        insert_rows(Article, ARTICLE_COLUMNS, articles)
        insert_rows(Article.tags.through, ("article_id", "tag_id"), links)


def body_pool(seed=SEED):
    """The (Markdown, HTML) bodies that bulk-created articles share, rendered once each."""
    text = TextGenerator(seed)
    return [(body, render_markdown(body)) for body in (text.body() for _ in range(BODY_POOL_SIZE))]


def create_articles(count, *, now=None, seed=SEED, progress=None, writers=1):
    """Create `count` published articles, newest at `now`, older ones back in time.

    Returns the new articles' ids, newest first. `progress(done, total)` is called after
    each batch. Rows are written straight to the table: bodies come from a pool rendered
    once (`save()` would render each), and each article was last edited when it was
    published. With `writers` above one (a bulk load into a throwaway PostgreSQL database,
    committed batch by batch on connections of their own), the batches are written that
    many at once: PostgreSQL computes each article's search document as it stores it, on
    one core per connection.
    """
    now = now or timezone.now()
    text = TextGenerator(seed)
    sections, authors, tags = create_sections(), create_authors(), create_tags()
    section_ids, author_ids = [section.pk for section in sections], [a.pk for a in authors]
    tag_ids = [tag.pk for tag in tags]
    bodies = body_pool(seed)
    illustrations = create_illustrations()
    unique_slug = SlugMaker(Article.objects.values_list("slug", flat=True))
    next_id = (Article.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    published, adapt_datetime = now, connection.ops.adapt_datetimefield_value
    ids = []
    with batch_writer(writers) as write:
        for start in range(0, count, BATCH_SIZE):
            articles, links = [], []
            for index in range(start, min(start + BATCH_SIZE, count)):
                article_id, title = next_id + index, text.title()
                body, body_html = text.pick(bodies)
                image, image_alt = (
                    text.pick(illustrations) if index % IMAGE_EVERY == 0 else ("", "")
                )
                published_at = adapt_datetime(published)
                articles.append(
                    (
                        article_id, title, unique_slug(title), text.standfirst(),
                        body, body_html, text.pick(author_ids), text.pick(section_ids),
                        Article.Status.PUBLISHED.value, published_at, published_at, published_at,
                        image, image_alt, True, 0,
                    )
                )  # fmt: skip
                links.extend(
                    (article_id, tag_id)
                    for tag_id in text.random.sample(tag_ids, text.random.randint(1, 3))
                )
                published -= timedelta(minutes=text.random.randint(20, 600))
            write(insert_articles, articles, links)
            ids.extend(row[0] for row in articles)
            if progress:
                progress(len(ids), count)
    reset_id_sequences(Article)
    return ids


def create_unpublished_examples(*, now):
    """A draft and a scheduled article: proof that neither shows anywhere public."""
    text = TextGenerator(SEED + 1)
    section, author = Section.objects.get(slug="news"), Author.objects.order_by("pk").first()
    examples = [
        ("demo-draft-not-yet-ready", Article.Status.DRAFT, None),
        ("demo-scheduled-for-tomorrow", Article.Status.PUBLISHED, now + timedelta(days=1)),
    ]
    for slug, status, published_at in examples:
        if not Article.objects.filter(slug=slug).exists():
            Article.objects.create(
                title=text.title(),
                slug=slug,
                standfirst=text.standfirst(),
                body=text.body(),
                author=author,
                section=section,
                status=status,
                published_at=published_at,
            )


def seed(*, articles=30, now=None, progress=None):
    """Top the site up to `articles` published articles; a second run changes nothing.

    Returns the ids of the articles created by this run (empty when there was enough).
    """
    now = now or timezone.now()
    missing = articles - Article.objects.published().count()
    ids = create_articles(missing, now=now, progress=progress) if missing > 0 else []
    create_unpublished_examples(now=now)
    return ids
