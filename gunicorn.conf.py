"""gunicorn's settings for every way the site is served (`make serve`, the README's command
line, the tests' and the benchmark's servers): gunicorn reads ./gunicorn.conf.py from the
folder it starts in, the project's."""

# The access log line of each request without its query string, nor the Referer header (the
# previous page's address, with its query): a moderator's search in the admin is a
# commenter's name or email address, and a log is no place for it. Otherwise gunicorn's own.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'

# Whether a proxy in front says the request came over HTTPS (X-Forwarded-Proto) is Django's to
# read, and only with DJANGO_BEHIND_PROXY=1 (settings.SECURE_PROXY_SSL_HEADER). gunicorn's
# default believes X-Forwarded-Proto, X-Forwarded-Ssl, X-Forwarded-Protocol and a SCRIPT_NAME
# header from any client on loopback: a local proxy passing them through, or any local client,
# made the site write the forger's scheme and path into pages every reader gets (robots.txt).
forwarded_allow_ips = ""
