"""What the console log keeps, for an operator reading it."""

import logging


class WithoutTraceback(logging.Filter):
    """A request refused as suspicious (another Host header, too many form fields...) is a
    client's doing, not a bug: its one line says what was refused, and the traceback would
    only add a dozen lines of where Django noticed, for every bot that sends one."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        return True
