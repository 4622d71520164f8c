"""Embeddings kept on disk by the photo's content and the model's version, outside any database.

A fresh database, a second install on the machine, or a catalogue imported again takes a
reference's embedding from here instead of running the model on it again: embedding the
references was most of the minutes of a first `bin/run`. The key is the photo's content key
(vision.content_keys) and the weights' version, so a photo stored twice is embedded once, and
new weights never meet an old embedding. One SQLite file (the standard library's): processes that
embed at once share it safely.
"""

import os
import sqlite3

import numpy as np

# SQLite limits the variables of one statement; lookups go in slices of this many keys.
LOOKUP_SLICE = 500


class EmbeddingCache:
    def __init__(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (version TEXT NOT NULL, content_key TEXT NOT NULL, "
                         "vector BLOB NOT NULL, PRIMARY KEY (version, content_key))")

    def get_many(self, version, keys, dimensions):
        """{content key: float32 vector} of the keys embedded by `version` before (a vector not of
        `dimensions` values, which a damaged file could hold, is left out: it is embedded again)."""
        keys = sorted({key for key in keys if key})
        found = {}
        for start in range(0, len(keys), LOOKUP_SLICE):
            chunk = keys[start:start + LOOKUP_SLICE]
            rows = self._db.execute(
                f"SELECT content_key, vector FROM embeddings WHERE version = ? AND content_key IN "
                f"({', '.join('?' * len(chunk))})", [version, *chunk])
            found.update((key, np.frombuffer(vector, dtype=np.float32)) for key, vector in rows
                         if len(vector) == 4 * dimensions)
        return found

    def put_many(self, version, vectors):
        """Keep {content key: vector} as embedded by `version`."""
        rows = [(version, key, np.asarray(vector, dtype=np.float32).tobytes())
                for key, vector in vectors.items() if key]
        self._db.execute("BEGIN IMMEDIATE")  # one transaction for the batch: one sync, not one a row
        try:
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self):
        self._db.close()
