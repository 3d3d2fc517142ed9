"""gunicorn's settings for every way the site is served (`make serve`, the README's command
line, the tests' and the benchmark's servers): gunicorn reads ./gunicorn.conf.py from the
folder it starts in, the project's."""

# The access log line of each request without its query string, nor the Referer header (the
# previous page's address, with its query): a moderator's search in the admin is a
# commenter's name or email address, and a log is no place for it. Otherwise gunicorn's own.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
