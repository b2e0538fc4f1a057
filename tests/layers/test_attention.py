import pytest
import torch

from se_backbones.layers import ChannelAttention


class Halves(ChannelAttention):
    def gate(self, x):
        return torch.full((x.shape[0], x.shape[1], 1, 1), 0.5)


def test_forward_scales_the_input_by_the_gate():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(Halves()(x), x * 0.5)


def test_a_subclass_without_gate_says_so():
    class NoGate(ChannelAttention):
        pass

    with pytest.raises(NotImplementedError) as error:
        NoGate()(torch.randn(1, 2, 3, 3))
    assert str(error.value) == 'NoGate must implement gate(x)'
