"""What the requester is told by e-mail about their inspection request."""


def request_confirmed(*, request) -> None:
    """The request is confirmed: the day, morning or afternoon, the inspector."""


def request_moved(*, request) -> None:
    """The confirmed request moved to another day, half day or inspector."""


def request_declined(*, request) -> None:
    """The request was declined, with the reason."""


def request_result(*, request, visit) -> None:
    """The requested visit closed: its result."""
