import secrets

# Lower-case letters and digits without look-alikes (0/o, 1/l/i): safe in URLs and readable
# aloud over the phone.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_code(length: int = 12) -> str:
    """A random public identifier for URLs, so raw database ids are never exposed."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
