import pytest
from timm.layers import make_divisible as timm_make_divisible

from se_backbones import make_divisible


@pytest.mark.parametrize(
    'divisor,min_value,min_ratio',
    [(1, None, 0.9), (4, None, 0.9), (8, None, 0.9), (16, None, 0.9), (8, 4, 0.9), (8, 1, 0.5)],
)
def test_matches_timm(divisor, min_value, min_ratio):
    """timm's make_divisible, whose ``round_limit`` is our ``min_ratio``."""
    for value in [0.5, 1, 3, 3.9, 4, 7.5, 10, 13, 16, 31, 100, 133.3, 1000]:
        ours = make_divisible(value, divisor, min_value=min_value, min_ratio=min_ratio)
        theirs = timm_make_divisible(value, divisor, min_value=min_value, round_limit=min_ratio)
        assert ours == theirs, value


def test_examples():
    assert make_divisible(256 / 16, 8) == 16
    assert make_divisible(64 / 16, 8) == 8  # never below the divisor
    assert make_divisible(100) == 104  # rounds to the nearest multiple of the default 8
    assert make_divisible(10, 8) == 16  # 8 would lose more than 10 %
    assert make_divisible(10, 9) == 9  # loses exactly 10 %: kept
    assert make_divisible(3, 8, min_value=4) == 4  # the lower bound given
    assert make_divisible(10, 8, min_ratio=0.7) == 8  # 8 loses 20 %: allowed
