import copy
from unittest import mock

import pytest
import torch
from mmpretrain.models.utils import SELayer as MMPretrainSELayer

from se_backbones import SELayer
from tests.helpers import randomize_


def test_shape_keys_and_squeeze_width():
    se = SELayer(256)
    assert se.squeeze_channels == 16
    assert {k: tuple(v.shape) for k, v in se.state_dict().items()} == {
        'conv1.conv.weight': (16, 256, 1, 1), 'conv1.conv.bias': (16, ),
        'conv2.conv.weight': (256, 16, 1, 1), 'conv2.conv.bias': (256, )}
    assert se(torch.rand(2, 256, 5, 7)).shape == (2, 256, 5, 7)


@pytest.mark.parametrize('channels,ratio,divisor,expected', [
    (64, 16, 8, 8),  # 4 rounds up to the divisor
    (2048, 16, 8, 128),
    (120, 16, 8, 8),
    (200, 16, 1, 13),  # 12.5 rounds half up without a divisor constraint
    (512, 4, 8, 128),
])
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


def _conv2d_calls(module, *args):
    """How many times ``F.conv2d`` runs in ``module``'s forward and backward."""
    with mock.patch.object(torch.nn.functional, 'conv2d',
                           wraps=torch.nn.functional.conv2d) as conv2d:
        module(*args).sum().backward()
    return conv2d.call_count


@pytest.mark.parametrize('act_cfg', [None, (dict(type='ReLU'), dict(type='HSigmoid')),
                                     dict(type='PReLU'), (dict(type='SiLU'), None)])
def test_gate_convs_as_matrix_products_equal_the_convs(act_cfg):
    """Where autograd records it, the gate's 1x1 convs run as F.linear, with the convs' results
    and gradients; inference, hooks on them, another conv type and a trace get the convs."""
    kwargs = {} if act_cfg is None else dict(act_cfg=act_cfg)
    fast = randomize_(SELayer(64, ratio=4, **kwargs))
    slow = copy.deepcopy(fast)
    slow.conv1.register_forward_hook(lambda *args: None)
    x = torch.randn(3, 64, 5, 4, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    assert (_conv2d_calls(fast, x), _conv2d_calls(slow, x2)) == (0, 2)
    torch.testing.assert_close(fast(x), slow(x2), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-5, atol=1e-6)
    for (name, p), q in zip(fast.named_parameters(), slow.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6, msg=name)
    ws = SELayer(64, ratio=4, conv_cfg=dict(type='Conv2dAdaptivePadding'))
    assert _conv2d_calls(ws, torch.randn(2, 64, 3, 3)) == 2
    traced = torch.jit.trace(fast, x)
    assert 'linear' not in str(traced.inlined_graph)
    with torch.no_grad(), mock.patch.object(torch.nn.functional, 'linear') as linear:
        fast(x)
    assert not linear.called  # inference: bit-equal to the convs of timm and mmpretrain
