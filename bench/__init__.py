"""`make bench`: build a benchmark database, serve it with gunicorn, measure it with wrk.

See docs/benchmarks.md for how to run it and a reference run.
"""
