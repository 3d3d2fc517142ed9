"""Files that browsers, feed readers and crawlers ask for at the site's root, whatever the
pages link to: /favicon.ico. WhiteNoise serves them from `site_root/` (WHITENOISE_ROOT), in
`make serve` and under runserver alike.

favicon.ico is static/img/favicon.svg drawn by Chromium at 256 px and saved by Pillow at
16, 32 and 48 px: make it again when the SVG changes.
"""

from pathlib import Path

ROOT_FILES_DIR = Path(__file__).resolve().parent.parent / "site_root"
# Their addresses carry no hash, unlike static files (cached for ten years): a day, so that
# a new icon reaches readers by the next day, without asking again at every page.
ROOT_FILE_MAX_AGE = 60 * 60 * 24


def cache_root_files(headers, path, url):
    """WhiteNoise's own Cache-Control for unhashed files is a minute (no cache at all with
    DEBUG on): a root file asked for at every visit would cost a request each time."""
    if Path(path).parent == ROOT_FILES_DIR:
        headers["Cache-Control"] = f"max-age={ROOT_FILE_MAX_AGE}, public"
