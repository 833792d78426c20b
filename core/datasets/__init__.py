"""Dataset readers: files on disk in, numpy arrays plus labels out. No torch here, so the readers stay cheap to import."""
