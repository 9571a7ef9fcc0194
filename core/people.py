def person_name(user) -> str:
    """How staff are named on pages and documents: full name, else username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
