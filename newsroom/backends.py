"""Backends named by a dotted path in the environment (EMAIL_BACKEND, TASKS_BACKEND...)."""

from django.utils.module_loading import import_string

CORRECT_THE_PATH = (
    "Correct the dotted path in {variable}, or leave it empty for the default (.env.example)."
)


def not_a_backend(path, *, variable, kind, described):
    """What is wrong with the path, said with the variable's name; None when it is a `kind`.
    Django would say it at the first use, naming neither."""
    try:
        backend = import_string(path)
    # A relative path, or one without its package (".DatabaseBackend"), is refused by
    # Python's import with a TypeError or a ValueError.
    except (ImportError, TypeError, ValueError) as error:
        problem = str(error)
    else:
        if isinstance(backend, type) and issubclass(backend, kind):
            return None
        problem = f"it names a {type(backend).__name__}, not a subclass of {kind.__name__}"
    return f"{variable} is {path!r}, which is not {described}: {problem}."
