"""The lowest layer: what every other layer shares, and nothing about reviews or BERT.

    errors            BadInput, the one exception for bad input (the CLI prints it as one line)
    options           option values checked in one place, errors naming the CLI's spelling
    digest            content digests of files and folders, streamed
    storage           files local or at a URL, written whole (temporary name, then rename)
    folders           folders written whole, never over something the user had
    progress          progress lines on stderr: done, rate, time left
    provenance        what every artifact records: versions, machine, time, command
    quiet_tensorflow  importing TensorFlow without its start-up chatter on stderr
"""
