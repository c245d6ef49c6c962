"""The one exception the CLI turns into a single stderr line and exit code 2."""


class BadInput(Exception):
    """Something the user gave (a path, a flag, a file's content, a cache) cannot be used.

    The message must name the file, line or field and say what to do; it is printed as is.
    """
