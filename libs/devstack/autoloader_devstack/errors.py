class SetupError(Exception):
    """A problem with the machine or the configuration that a person can fix.

    The CLI prints its message (what is wrong and what to do) without a traceback.
    """
