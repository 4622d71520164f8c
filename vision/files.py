"""Writing a file so that a crash or a power cut leaves either the old one or the new one whole."""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def replaced_atomically(path):
    """Yields a binary file to write `path`'s new contents to. It is a unique temporary in the
    same folder (two writers never share one), synced to disk before it is renamed over `path`,
    and the folder is synced after the rename, which is what makes the rename itself survive a
    power cut. If the block raises, the temporary is removed and `path` is left as it was."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, prefix=f".{os.path.basename(path)}-", suffix=".tmp",
                                     delete=False) as tmp:
        try:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.chmod(tmp.name, 0o644)  # as a file opened the usual way would be, not the temporary's 0600
    os.replace(tmp.name, path)
    folder = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
