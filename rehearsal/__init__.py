"""The rehearsal stack: stand-in images and their builder (see README.md)."""
