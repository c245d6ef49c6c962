"""The one exception the Python API raises for bad input, and the CLI turns into one stderr line."""


class BadInput(Exception):
    """Something the user gave (a path, an option, a file's content, a cache) cannot be used.

    The message names the file, line or option and says what to do; the CLI prints it as
    `error: <message>` and exits with code 2.
    """
