import pytest
import torch
from timm.layers import EcaModule

from se_backbones.layers import ECALayer, eca_kernel_size
from tests.helpers import randomize_


@pytest.mark.parametrize(
    'channels,kwargs,expected',
    [
        (16, {}, 3),  # |(4 + 1) / 2| = 2, made odd: 3
        (64, {}, 3),
        (128, {}, 5),  # 4 -> 5
        (256, {}, 5),
        (512, {}, 5),
        (1024, {}, 5),
        (2048, {}, 7),  # 6 -> 7
        (8192, {}, 7),
        (64, dict(gamma=1), 7),  # |(6 + 1) / 1| = 7
        (64, dict(gamma=1.5, b=0.5), 5),  # |6.5 / 1.5| = 4 -> 5
        (64, dict(b=3), 5),  # |9 / 2| = 4 -> 5
        (64, dict(b=-3), 3),  # |3 / 2| = 1, at least 3
        (1, dict(b=-20), 11),  # |-20 / 2| = 10 -> 11: the absolute value
        (64, dict(kernel_size=9), 9),  # given: no adaptive size
        (64, dict(kernel_size=1, gamma=1), 1),
    ],
)
def test_kernel_size_adaptive_from_channels_gamma_and_b_or_given(channels, kwargs, expected):
    """ECA-Net's k = |(log2 C + b) / gamma| made odd, at least 3 (as the authors' code and
    timm), or the kernel_size given: k weights, no bias, in the state dict."""
    if 'kernel_size' not in kwargs:
        assert eca_kernel_size(channels, **kwargs) == expected
    eca = ECALayer(channels, **kwargs)
    assert {k: tuple(v.shape) for k, v in eca.state_dict().items()} == {
        'conv.weight': (1, 1, expected)
    }


@pytest.mark.parametrize('k', [3, 5])
def test_forward_is_a_1d_conv_across_pooled_channels(k):
    eca = randomize_(ECALayer(32, kernel_size=k))
    x = torch.randn(2, 32, 5, 4)
    w = eca.conv.weight.flatten()
    half = k // 2  # zero padding at both channel ends
    s = torch.nn.functional.pad(x.mean((2, 3)), (half, half))
    y = sum(w[j] * s[:, j : j + 32] for j in range(k))
    torch.testing.assert_close(eca(x), x * torch.sigmoid(y)[:, :, None, None])


def test_equals_timm_eca_module():
    theirs = randomize_(EcaModule(channels=512))
    ours = ECALayer(512)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 512, 6, 6)
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)


@pytest.mark.parametrize(
    'squeeze,reduce',
    [
        ('avg', lambda x: x.mean((2, 3))),
        ('max', lambda x: x.amax((2, 3))),
        ('avgmax', lambda x: 0.5 * (x.mean((2, 3)) + x.amax((2, 3)))),
    ],
)
@pytest.mark.parametrize(
    'gate,act',
    [
        ('sigmoid', torch.sigmoid),
        ('hsigmoid', lambda z: ((z + 3) / 6).clamp(0, 1)),  # mmcv's HSigmoid
        ('tanh', torch.tanh),
        ('relu', torch.relu),
    ],
)
def test_squeeze_and_gate_options(squeeze, reduce, gate, act):
    eca = randomize_(ECALayer(8, kernel_size=1, squeeze=squeeze, gate=gate))
    x = torch.randn(2, 8, 3, 3)
    expected = act(eca.conv.weight.flatten() * reduce(x))[:, :, None, None]
    torch.testing.assert_close(eca.gate(x), expected)
    assert eca.fusable == (gate != 'tanh')


@pytest.mark.parametrize(
    'kwargs,message',
    [
        (dict(channels=0), 'channels must be a positive int, got 0'),
        (
            dict(channels=8, kernel_size=4),
            'kernel_size must be None (adaptive) or a positive odd int, got 4',
        ),
        (
            dict(channels=8, kernel_size=0),
            'kernel_size must be None (adaptive) or a positive odd int, got 0',
        ),
        (
            dict(channels=8, kernel_size=-1),
            'kernel_size must be None (adaptive) or a positive odd int, got -1',
        ),
        (
            dict(channels=8, kernel_size=3.0),
            'kernel_size must be None (adaptive) or a positive odd int, got 3.0',
        ),
        (dict(channels=8, gamma=0), 'gamma must be a positive number, got 0'),
        (dict(channels=8, b='1'), "b must be a number, got '1'"),
        (
            dict(channels=8, squeeze='mean'),
            "squeeze must be one of 'avg', 'max', 'avgmax', got 'mean'",
        ),
        (
            dict(channels=8, gate='softmax'),
            "gate must be one of 'sigmoid', 'hsigmoid', 'tanh', 'relu', got 'softmax'",
        ),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        ECALayer(**kwargs)
    assert str(error.value) == f'ECALayer: {message}'


def test_init_cfg_initialises_the_layer():
    eca = ECALayer(8, kernel_size=3, init_cfg=dict(type='Constant', layer='Conv1d', val=0.5))
    eca.init_weights()
    assert eca.state_dict()['conv.weight'].tolist() == [[[0.5, 0.5, 0.5]]]
