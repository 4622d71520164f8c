"""Content keys: the same photo gets the same key wherever it is stored, so a split, an import or
a training record can tell photos apart by what they are, not by where they are.

Pure hashlib, so the web process may use it (a staff decision makes a reference with its key).
"""

import hashlib

# 64 bits of SHA-256: collisions are out of reach for any catalogue, and a training record
# of a million photos stays a few MB.
CONTENT_KEY_HEX = 16


def file_digest(path):
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(path):
    """The key of an image file's bytes: the same photo gets it wherever it is stored."""
    return file_digest(path)[:CONTENT_KEY_HEX]


def content_key_of_bytes(data):
    return hashlib.sha256(data).hexdigest()[:CONTENT_KEY_HEX]


def key_number(key):
    """A content key as the number an index row keeps (vision.index); 0 for none."""
    return int(key, 16) if key else 0
