import pytest
import torch
from mmpretrain.models.utils import SELayer as MMPretrainSELayer

from se_backbones import SELayer
from tests.helpers import randomize_


def test_shape_keys_and_squeeze_width():
    se = SELayer(256)
    assert se.squeeze_channels == 16
    assert {k: tuple(v.shape) for k, v in se.state_dict().items()} == {
        'conv1.conv.weight': (16, 256, 1, 1),
        'conv1.conv.bias': (16,),
        'conv2.conv.weight': (256, 16, 1, 1),
        'conv2.conv.bias': (256,),
    }
    assert se(torch.rand(2, 256, 5, 7)).shape == (2, 256, 5, 7)


@pytest.mark.parametrize(
    'channels,ratio,divisor,expected',
    [
        (64, 16, 8, 8),  # 4 rounds up to the divisor
        (2048, 16, 8, 128),
        (120, 16, 8, 8),
        (200, 16, 1, 13),  # 12.5 rounds half up without a divisor constraint
        (512, 4, 8, 128),
    ],
)
def test_squeeze_width_is_make_divisible(channels, ratio, divisor, expected):
    assert SELayer(channels, ratio=ratio, divisor=divisor).squeeze_channels == expected


def test_explicit_squeeze_channels_win():
    assert SELayer(64, squeeze_channels=5, ratio=2).conv1.conv.out_channels == 5


def test_forward_is_the_paper_formula():
    """x * sigmoid(W2 relu(W1 avgpool(x) + b1) + b2)."""
    se = randomize_(SELayer(32, ratio=4))
    x = torch.randn(3, 32, 6, 5)
    s = x.mean((2, 3))
    w1, b1 = se.conv1.conv.weight.flatten(1), se.conv1.conv.bias
    w2, b2 = se.conv2.conv.weight.flatten(1), se.conv2.conv.bias
    gate = torch.sigmoid(torch.relu(s @ w1.T + b1) @ w2.T + b2)
    torch.testing.assert_close(se(x), x * gate[:, :, None, None])


def test_act_cfg_and_bias():
    se = SELayer(32, ratio=4, bias=False, act_cfg=dict(type='Tanh'))
    assert 'conv1.conv.bias' not in se.state_dict()
    assert isinstance(se.conv1.activate, torch.nn.Tanh)
    assert isinstance(se.conv2.activate, torch.nn.Tanh)
    se = SELayer(32, act_cfg=(dict(type='ReLU'), dict(type='HSigmoid')))
    assert type(se.conv2.activate).__name__ == 'HSigmoid'


def test_loads_mmpretrain_selayer_and_matches():
    theirs = randomize_(MMPretrainSELayer(128, ratio=16))
    ours = SELayer(128, ratio=16)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 128, 4, 4)
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
