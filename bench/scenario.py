"""What the benchmark database holds and which pages it measures (no Django imports here)."""

# name: (articles, approved comments spread over them)
SCALES = {
    "small": (1_000, 10_000),
    "default": (10_000, 100_000),
    "large": (100_000, 1_000_000),
}
# The growth comparison for list pages: the main data set against this many articles.
GROWTH_BASELINE_SCALE = "small"

HOT_SLUG = "bench-hot-article"
HOT_COMMENTS = 500
GROWTH_SIZES = (0, 100, 1_000, 5_000)
# A word in many generated articles (see articles/demo.py), so search has work to do.
SEARCH_TERM = "harbour"


def growth_slug(size):
    return f"bench-thread-{size}-comments"
