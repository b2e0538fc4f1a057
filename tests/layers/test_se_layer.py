import re

import pytest
import torch
from mmpretrain.models.utils import SELayer as MMPretrainSELayer

from se_backbones import SELayer
from tests.helpers import randomize_


def test_shape_keys_and_squeeze_width():
    se = SELayer(2048)  # the default ratio 16: 128 (17 would round to 120)
    assert (se.channels, se.squeeze_channels) == (2048, 128)
    assert {k: tuple(v.shape) for k, v in se.state_dict().items()} == {
        'conv1.conv.weight': (128, 2048, 1, 1),
        'conv1.conv.bias': (128,),
        'conv2.conv.weight': (2048, 128, 1, 1),
        'conv2.conv.bias': (2048,),
    }
    assert se(torch.rand(2, 2048, 2, 3)).shape == (2, 2048, 2, 3)


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


def test_loads_mmpretrain_selayer_and_matches():
    theirs = randomize_(MMPretrainSELayer(128, ratio=16))
    ours = SELayer(128, ratio=16)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 128, 4, 4)
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)


def ws(weight, eps=1e-5):
    """Weight standardisation of a conv weight (Qiao et al.; mmcv's ``ConvWS``), by hand."""
    flat = weight.flatten(1)
    mean, std = flat.mean(1, keepdim=True), flat.std(1, keepdim=True)
    return ((flat - mean) / (std + eps)).view_as(weight)


ACTS = {
    'ReLU': torch.relu,
    'Sigmoid': torch.sigmoid,
    'Tanh': torch.tanh,
    'HSigmoid': lambda z: ((z + 3) / 6).clamp(0, 1),  # mmcv's defaults
    None: lambda z: z,
}
SQUEEZES = {
    'avg': lambda x: x.mean((2, 3)),
    'max': lambda x: x.amax((2, 3)),
    'avgmax': lambda x: 0.5 * (x.mean((2, 3)) + x.amax((2, 3))),
}


def reference_se(se, x, squeeze='avg', acts=('ReLU', 'Sigmoid'), standardize=False):
    """The SE excitation of Hu et al. (Fig. 3) in plain torch, with the layer's weights:
    x * act2(W2 act1(W1 squeeze(x) + b1) + b2), biases as the state dict has them."""
    params = se.state_dict()
    h = SQUEEZES[squeeze](x)
    for i, act in enumerate(acts):
        w = params[f'conv{i + 1}.conv.weight']
        w = ws(w) if standardize else w
        h = h @ w.flatten(1).T + params.get(f'conv{i + 1}.conv.bias', 0)
        h = ACTS[act](h)
    return x * h[:, :, None, None]


RELU, SIGMOID, TANH, HSIG = (dict(type=t) for t in ('ReLU', 'Sigmoid', 'Tanh', 'HSigmoid'))


# every documented SELayer argument, on 40 channels: (kwargs, squeeze width, biases, the
# reference's squeeze and activations, conv standardised, fusable)
ARGUMENTS = {
    'defaults': (dict(), 8, True, 'avg', ('ReLU', 'Sigmoid'), False, True),  # 40/16 -> 8
    'ratio': (dict(ratio=2), 24, True, 'avg', ('ReLU', 'Sigmoid'), False, True),  # 20 -> 24
    'ratio float': (dict(ratio=2.5), 16, True, 'avg', ('ReLU', 'Sigmoid'), False, True),
    'divisor': (dict(ratio=2, divisor=4), 20, True, 'avg', ('ReLU', 'Sigmoid'), False, True),
    'divisor 1': (dict(ratio=8, divisor=1), 5, True, 'avg', ('ReLU', 'Sigmoid'), False, True),
    'squeeze_channels': (dict(squeeze_channels=3), 3, True, 'avg', ('ReLU', 'Sigmoid'), False, 1),
    'bias False': (dict(bias=False), 8, False, 'avg', ('ReLU', 'Sigmoid'), False, True),
    'bias True': (dict(bias=True), 8, True, 'avg', ('ReLU', 'Sigmoid'), False, True),
    'act_cfg dict': (dict(act_cfg=TANH), 8, True, 'avg', ('Tanh', 'Tanh'), False, False),
    'act_cfg pair': (dict(act_cfg=(TANH, HSIG)), 8, True, 'avg', ('Tanh', 'HSigmoid'), False, 1),
    'act_cfg list': (dict(act_cfg=[SIGMOID, RELU]), 8, True, 'avg', ('Sigmoid', 'ReLU'), 0, 1),
    'no gate act': (dict(act_cfg=(RELU, None)), 8, True, 'avg', ('ReLU', None), False, False),
    'no first act': (dict(act_cfg=(None, SIGMOID)), 8, True, 'avg', (None, 'Sigmoid'), 0, 1),
    'gate sigmoid': (dict(gate='sigmoid'), 8, True, 'avg', ('ReLU', 'Sigmoid'), False, True),
    'gate hsigmoid': (dict(gate='hsigmoid'), 8, True, 'avg', ('ReLU', 'HSigmoid'), False, 1),
    'gate tanh': (dict(gate='tanh'), 8, True, 'avg', ('ReLU', 'Tanh'), False, False),
    'gate relu': (dict(gate='relu'), 8, True, 'avg', ('ReLU', 'ReLU'), False, True),
    'gate over act_cfg': (  # the gate replaces act_cfg[1] only
        dict(act_cfg=(TANH, SIGMOID), gate='relu'),
        8,
        True,
        'avg',
        ('Tanh', 'ReLU'),
        False,
        True,
    ),
    'squeeze max': (dict(squeeze='max'), 8, True, 'max', ('ReLU', 'Sigmoid'), False, True),
    'squeeze avgmax': (dict(squeeze='avgmax'), 8, True, 'avgmax', ('ReLU', 'Sigmoid'), 0, 1),
    'conv_cfg': (dict(conv_cfg=dict(type='ConvWS')), 8, True, 'avg', ('ReLU', 'Sigmoid'), 1, 1),
}


@pytest.mark.parametrize('grad', [False, True])
@pytest.mark.parametrize(
    'kwargs,width,bias,squeeze,acts,standardize,fusable', ARGUMENTS.values(), ids=list(ARGUMENTS)
)
def test_every_documented_argument_reaches_the_output(
    kwargs, width, bias, squeeze, acts, standardize, fusable, grad
):
    """Each argument shows in the state dict (squeeze width, biases) and in the output, which
    equals the paper's formula written out with the given squeeze, activations and convs; with
    autograd recording or not (two code paths); ``fusable`` (the block's contract) is whether
    the gate is >= 0 and flat at 0."""
    se = randomize_(SELayer(40, **kwargs))
    shapes = {'conv1.conv.weight': (width, 40, 1, 1), 'conv2.conv.weight': (40, width, 1, 1)}
    if bias:
        shapes.update({'conv1.conv.bias': (width,), 'conv2.conv.bias': (40,)})
    assert {k: tuple(v.shape) for k, v in se.state_dict().items()} == shapes
    x = torch.randn(2, 40, 5, 3, generator=torch.Generator().manual_seed(0), requires_grad=grad)
    with torch.set_grad_enabled(grad):
        out = se(x)
        expected = reference_se(se, x, squeeze, acts, standardize)
    torch.testing.assert_close(out, expected)
    assert se.fusable == bool(fusable)


def test_init_cfg_initialises_the_layer(tmp_path):
    """A checkpoint given as init_cfg is what init_weights loads."""
    source = randomize_(SELayer(16, ratio=2))
    torch.save(source.state_dict(), tmp_path / 'se.pth')
    se = SELayer(16, ratio=2, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'se.pth')))
    se.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(se.state_dict()[key], value), key


def test_ratio_is_ignored_with_explicit_squeeze_channels():
    """As documented: ``ratio`` and ``divisor`` are used only when squeeze_channels is None."""
    se = SELayer(64, squeeze_channels=5, ratio=0, divisor=0)
    assert se.state_dict()['conv1.conv.weight'].shape == (5, 64, 1, 1)


def test_a_trace_records_mmpretrains_ops():
    """A TorchScript trace (the deploy path) records the ops mmpretrain's SELayer records:
    the standard global average pooling, not our mean."""
    x = torch.randn(1, 16, 4, 4)
    ops = [
        sorted(set(re.findall(r'aten::\w+', str(torch.jit.trace(m.eval(), x).inlined_graph))))
        for m in (SELayer(16, ratio=4), MMPretrainSELayer(16, ratio=4))
    ]
    assert 'aten::adaptive_avg_pool2d' in ops[1]
    assert ops[0] == ops[1]


@pytest.mark.parametrize(
    'kwargs,message',
    [
        (
            dict(act_cfg=(RELU,)),
            "SELayer: act_cfg must be a dict or a pair of dicts, got ({'type': 'ReLU'},)",
        ),
        (
            dict(squeeze='mean'),
            "SELayer: squeeze must be one of 'avg', 'max', 'avgmax', got 'mean'",
        ),
        (
            dict(gate='softmax'),
            "SELayer: gate must be one of 'sigmoid', 'hsigmoid', 'tanh', 'relu', got 'softmax'",
        ),
    ],
)
def test_refusals_word_for_word(kwargs, message):
    with pytest.raises(ValueError) as error:
        SELayer(16, **kwargs)
    assert str(error.value) == message
