"""What a service says when it refuses a request: a message id the door shows, translated."""


def N_(message: str) -> str:
    """Marks a message id for translation; the door translates it when it shows it."""
    return message


class ServiceError(Exception):
    """A request a service refuses; ``str(exc)`` is a message id shown to the user."""
