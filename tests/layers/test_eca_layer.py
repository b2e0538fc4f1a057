import pytest
import torch
from timm.layers import EcaModule

from se_backbones.layers import ECALayer, eca_kernel_size
from tests.helpers import randomize_


@pytest.mark.parametrize(
    'channels,expected',
    [(16, 3), (64, 3), (128, 5), (256, 5), (512, 5), (1024, 5), (2048, 7), (8192, 7)],
)
def test_adaptive_kernel_is_odd_and_grows_with_log2_channels(channels, expected):
    assert eca_kernel_size(channels) == expected == ECALayer(channels).kernel_size
    assert ECALayer(channels).conv.weight.shape == (1, 1, expected)  # k weights, no bias


def test_forward_is_a_1d_conv_across_pooled_channels():
    eca = randomize_(ECALayer(32, kernel_size=3))
    x = torch.randn(2, 32, 5, 4)
    w = eca.conv.weight.flatten()
    s = torch.nn.functional.pad(x.mean((2, 3)), (1, 1))  # zero padding at both channel ends
    y = w[0] * s[:, :-2] + w[1] * s[:, 1:-1] + w[2] * s[:, 2:]
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
    'gate,act', [('sigmoid', torch.sigmoid), ('tanh', torch.tanh), ('relu', torch.relu)]
)
def test_squeeze_and_gate_options(squeeze, reduce, gate, act):
    eca = randomize_(ECALayer(8, kernel_size=1, squeeze=squeeze, gate=gate))
    x = torch.randn(2, 8, 3, 3)
    expected = act(eca.conv.weight.flatten() * reduce(x))[:, :, None, None]
    torch.testing.assert_close(eca.gate(x), expected)
    assert eca.fusable == (gate != 'tanh')


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(channels=0), 'channels must be a positive int'),
        (dict(channels=8, kernel_size=4), 'kernel_size must be None .adaptive. or a positive odd'),
        (dict(channels=8, gamma=0), 'gamma must be a positive number'),
        (dict(channels=8, b='1'), 'b must be a number'),
        (dict(channels=8, squeeze='mean'), "squeeze must be one of 'avg', 'max', 'avgmax'"),
        (dict(channels=8, gate='softmax'), "gate must be one of 'sigmoid', 'hsigmoid', 'tanh'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ECALayer(**kwargs)
