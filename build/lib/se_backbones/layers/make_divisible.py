def make_divisible(value, divisor=8, min_value=None, min_ratio=0.9):
    """Round ``value`` to the nearest multiple of ``divisor``, as timm and mmpretrain do.

    Args:
        value (float): The value to round, e.g. ``channels / ratio``.
        divisor (int): The result is a multiple of it. Default: 8.
        min_value (int, optional): Lower bound of the result. Default: ``divisor``.
        min_ratio (float): Rounding down may lose at most ``1 - min_ratio`` of ``value``;
            otherwise one more ``divisor`` is added. Default: 0.9.

    Returns:
        int: The rounded value.

    Example:
        >>> make_divisible(256 / 16, 8), make_divisible(64 / 16, 8), make_divisible(100, 8)
        (16, 8, 104)
    """
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value
