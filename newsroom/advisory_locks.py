"""PostgreSQL advisory locks named by texts: only the transactions that name the same text
wait for each other.

Each lock is named by two numbers: the caller's lock class, which keeps its locks apart from
any other caller's (and from the one-number kind, which newsroom's migrate takes), and a
4-byte hash of the text. Two texts that share a hash only wait for each other needlessly.
"""

import hashlib


def lock_texts_until_the_transaction_ends(connection, lock_class, texts):
    """Waits for, then holds until the current transaction ends, a lock for each text.

    Taken in the order of their keys whatever the order of the texts, so that no two
    transactions can each hold what the other waits for, and in one statement: a select
    list is evaluated from left to right."""
    keys = sorted(
        int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big", signed=True)
        for text in texts
    )
    locks = ", ".join(["pg_advisory_xact_lock(%s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {locks}", [number for key in keys for number in (lock_class, key)])
