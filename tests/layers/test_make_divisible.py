import pytest
from timm.layers import make_divisible as timm_make_divisible

from se_backbones import make_divisible


@pytest.mark.parametrize('divisor', [1, 4, 8, 16])
def test_matches_timm(divisor):
    for value in [0.5, 1, 3.9, 4, 7.5, 16, 31, 100, 133.3, 1000]:
        assert make_divisible(value, divisor) == timm_make_divisible(value, divisor), value


def test_examples():
    assert make_divisible(256 / 16, 8) == 16
    assert make_divisible(64 / 16, 8) == 8  # never below the divisor
    assert make_divisible(100, 8) == 104  # rounds to nearest
    assert make_divisible(10, 8) == 16  # 8 would lose more than 10 %
