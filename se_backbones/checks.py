def check_positive_int(owner, name, value):
    """Raise ``ValueError('<owner>: <name> must be a positive int, got <value>')`` unless it is
    one (bools are not)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f'{owner}: {name} must be a positive int, got {value!r}')
