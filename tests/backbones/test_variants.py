"""The SENet paper's ablations and ECA-Net as configs of the one backbone: attention type, SE
position, squeeze and gate; parameter counts against the formulas."""

import pytest
import torch
import torch.nn.functional as F

from se_backbones import SEResNet, SEResNeXt
from se_backbones.backbones.se_blocks import SEBottleneck
from se_backbones.layers import eca_kernel_size, make_divisible
from tests.helpers import num_params, randomize_

R50_PARAMS = 23_508_032  # mmdet ResNet-50 without SE
# (input channels, mid width, output channels) of each of ResNet-50's 16 bottlenecks
R50_BLOCKS = [
    (inp if i == 0 else out, mid, out)
    for n, mid, out, inp in (
        (3, 64, 256, 64),
        (4, 128, 512, 256),
        (6, 256, 1024, 512),
        (3, 512, 2048, 1024),
    )
    for i in range(n)
]


def se_params(channels, ratio=16):
    squeeze = make_divisible(channels / ratio, 8)
    return 2 * channels * squeeze + squeeze + channels  # two 1x1 convs with biases


@pytest.mark.parametrize(
    'position,channels_of',
    [
        ('standard', lambda inp, mid, out: out),
        ('post', lambda inp, mid, out: out),
        ('identity', lambda inp, mid, out: out),
        ('pre', lambda inp, mid, out: inp),
        ('after_conv2', lambda inp, mid, out: mid),
    ],
)
def test_se_position_param_counts(position, channels_of):
    model = SEResNet(50, se_position=position)
    extra = sum(se_params(channels_of(*block)) for block in R50_BLOCKS)
    assert num_params(model) - R50_PARAMS == extra
    if position == 'standard':  # the paper's 2/r * sum N_s C_s^2, plus the biases
        assert (
            extra
            == 2 * sum(n * c * c for n, c in ((3, 256), (4, 512), (6, 1024), (3, 2048))) // 16
            + 16_048
        )


@pytest.mark.parametrize('position', ['standard', 'pre', 'post', 'identity', 'after_conv2'])
def test_eca_adds_k_weights_per_layer(position):
    model = SEResNet(50, se_cfg=dict(type='ECALayer'), se_position=position)
    channels = {'standard': 2, 'post': 2, 'identity': 2, 'pre': 0, 'after_conv2': 1}[position]
    extra = sum(eca_kernel_size(block[channels]) for block in R50_BLOCKS)
    assert num_params(model) - R50_PARAMS == extra
    if position == 'standard':
        assert extra == 86  # 3 x 5 + 4 x 5 + 6 x 5 + 3 x 7 (the ECA paper: ~80)


POSITIONS = ['standard', 'pre', 'post', 'identity', 'after_conv2']


@pytest.mark.parametrize(
    'position, act_before_se, gate',
    [(p, False, 'sigmoid') for p in POSITIONS]
    + [(p, True, 'sigmoid') for p in POSITIONS]
    + [('standard', False, 'tanh')],  # a gate the block end cannot fuse: plain ops
)
def test_positions_are_where_the_paper_puts_them(position, act_before_se, gate):
    """One bottleneck, against its own layers composed by hand (SENet paper, Fig. 5); with
    ``act_before_se``, a ReLU ends the residual branch."""
    block = randomize_(
        SEBottleneck(
            64,
            16,
            se_cfg=dict(ratio=4, gate=gate),
            se_position=position,
            act_before_se=act_before_se,
            downsample=torch.nn.Conv2d(64, 64, 1),
        )
    ).eval()
    x = torch.randn(2, 64, 6, 6)
    se, relu = block.se_layer, torch.relu

    def residual(x, inside=lambda t: t):
        out = relu(block.norm1(block.conv1(x)))
        out = inside(relu(block.norm2(block.conv2(out))))
        out = block.norm3(block.conv3(out))
        return relu(out) if act_before_se else out

    identity = block.downsample(x)
    expected = {
        'standard': lambda: relu(se(residual(x)) + identity),
        'pre': lambda: relu(residual(se(x)) + identity),
        'post': lambda: se(relu(residual(x) + identity)),
        'identity': lambda: relu(residual(x) + se(identity)),
        'after_conv2': lambda: relu(residual(x, se) + identity),
    }[position]
    with torch.no_grad():
        torch.testing.assert_close(block(x), expected())


GATES = {
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'relu': torch.relu,
    'hsigmoid': lambda z: ((z + 3) / 6).clamp(0, 1),
}  # mmcv's HSigmoid


def reference_gate(se, x, se_cfg):
    """An SE (Hu et al., Fig. 3) or ECA (Wang et al., Fig. 2) excitation of ``x`` in plain
    torch, with the layer's weights: squeeze, excite, gate."""
    avg, peak = x.mean((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    pooled = {'avg': avg, 'max': peak, 'avgmax': (avg + peak) / 2}[se_cfg.get('squeeze', 'avg')]
    if se_cfg.get('type') == 'ECALayer':
        n, c = x.shape[:2]
        k = se.conv.weight.shape[-1]
        z = F.conv1d(pooled.view(n, 1, c), se.conv.weight, padding=k // 2).view(n, c, 1, 1)
    else:
        hidden = torch.relu(F.conv2d(pooled, se.conv1.conv.weight, se.conv1.conv.bias))
        z = F.conv2d(hidden, se.conv2.conv.weight, se.conv2.conv.bias)
    return GATES[se_cfg.get('gate', 'sigmoid')](z)


def reference_se_resnet18(model, x, kwargs):
    """SE-ResNet-18's stage outputs composed by hand from the model's torch conv and BN layers,
    with the SE block in plain torch (standard position: relu(r * gate(r) + shortcut)), the
    stem pool of ``stem_pool_cfg`` and the ReLU before SE of ``act_before_se``."""
    se_cfg = kwargs.get('se_cfg', {})
    pool = kwargs.get('stem_pool_cfg', dict(kernel_size=3, stride=2, padding=1))
    x = F.max_pool2d(torch.relu(model.norm1(model.conv1(x))), **pool)
    feats = []
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in layer:
            residual = block.norm2(block.conv2(torch.relu(block.norm1(block.conv1(x)))))
            if kwargs.get('act_before_se'):
                residual = torch.relu(residual)
            if block.se_layer is not None:
                residual = residual * reference_gate(block.se_layer, residual, se_cfg)
            shortcut = x if block.downsample is None else block.downsample(x)
            x = torch.relu(residual + shortcut)
        feats.append(x)
    return feats


@pytest.mark.parametrize(
    'kwargs,rel',
    [
        (dict(se_cfg=dict(gate='tanh')), 1e-5),
        (dict(se_cfg=dict(gate='relu', squeeze='max')), 1e-3),
        (dict(se_cfg=dict(type='ECALayer', gate='hsigmoid')), 1e-5),
        (dict(se_cfg=dict(squeeze='avgmax', gate='sigmoid')), 1e-5),
        (dict(act_before_se=True, stage_with_se=(True, False, True, False)), 1e-5),
        (dict(act_before_se=True, se_cfg=dict(gate='tanh')), 1e-5),
        (
            dict(
                stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True),
                stage_with_se=(False, True, False, True),
            ),
            1e-5,
        ),
    ],
)
def test_every_gate_trains_with_the_plain_formulas_gradients(kwargs, rel):
    """tanh gates (negative values) take the unfused path; the others the fused one. Either
    way the outputs and gradients are those of the SE-ResNet written out in plain torch, to
    float32 rounding at their scale (``rel``), with Caffe SENet's ReLU before SE and its stem
    pool (timm's legacy_seresnet18) as well. The fused backward recovers x * gate as
    out - identity and divides by the gate: a ReLU gate just above 0 (2.6e-5 here) amplifies
    that rounding (measured over 25 inputs: up to 8e-5 of the scale with it, 8e-7 without)."""
    model = randomize_(SEResNet(18, out_indices=(0, 1, 2, 3), **kwargs)).train()
    se = [b.se_layer for b in model.modules() if getattr(b, 'se_layer', None) is not None]
    assert se[0].fusable == (kwargs.get('se_cfg', {}).get('gate') != 'tanh')
    x = torch.randn(2, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    results = []
    for forward in (model, lambda x: reference_se_resnet18(model, x, kwargs)):
        model.zero_grad()
        xi = x.clone().requires_grad_()
        feats = forward(xi)
        sum(f.square().mean() for f in feats).backward()
        results.append(
            [
                torch.cat([f.flatten() for f in feats]),
                xi.grad,
                torch.cat([p.grad.flatten() for p in model.parameters()]),
            ]
        )
    for ours, expected in zip(*results, strict=True):
        torch.testing.assert_close(
            ours, expected, rtol=1e-4, atol=rel * float(expected.abs().max())
        )


@pytest.mark.parametrize(
    'cls,kwargs',
    [
        (SEResNet, dict(depth=18)),
        (SEResNet, dict(depth=34, se_position='identity')),
        (SEResNet, dict(depth=26, se_cfg=dict(type='ECALayer'), se_position='pre')),
        (SEResNeXt, dict(depth=26, se_cfg=dict(type='se_backbones.ECALayer', kernel_size=3))),
        (SEResNeXt, dict(depth=26, se_position='after_conv2', se_cfg=dict(squeeze='max'))),
        (SEResNet, dict(depth=18, se_position='post', stage_with_se=(False, True, False, True))),
    ],
)
def test_variants_build_and_run_forward_backward(cls, kwargs):
    model = cls(**kwargs, out_indices=(0, 1, 2, 3))
    model.train()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    out = model(x)
    expansion = 1 if kwargs['depth'] in (18, 34) else 4
    assert [tuple(f.shape) for f in out] == [
        (2, 64 * 2**i * expansion, 16 // 2**i, 16 // 2**i) for i in range(4)
    ]
    sum(f.sum() for f in out).backward()
    assert x.grad.isfinite().all()


@pytest.mark.parametrize(
    'kwargs,message',
    [
        (
            dict(depth=50, se_position='middle'),
            "SEResNet: se_position must be one of 'standard', 'pre', 'post', 'identity', "
            "'after_conv2', got 'middle'",
        ),
        (
            dict(depth=18, se_position='after_conv2'),
            "SEResNet: se_position must be one of 'standard', 'pre', 'post', 'identity' with "
            "basic blocks (depth 18, 34; 'after_conv2' needs bottlenecks), got 'after_conv2'",
        ),
        (
            dict(depth=50, se_cfg=dict(type='CBAM')),
            "SEResNet: se_cfg['type'] must be a ChannelAttention subclass",
        ),
        (
            dict(depth=50, se_cfg=dict(type='ECALayer'), se_ratio=8),
            'SEResNet: se_ratio must be None with se_cfg type ECALayer (it has no reduction '
            'ratio), got 8',
        ),
        (
            dict(depth=50, se_cfg=dict(squeeze='min')),
            "SELayer: squeeze must be one of 'avg', 'max', 'avgmax', got 'min'",
        ),
        (
            dict(depth=50, se_cfg=dict(gate='softmax')),
            "SELayer: gate must be one of 'sigmoid', 'hsigmoid', 'tanh', 'relu', got 'softmax'",
        ),
    ],
)
def test_bad_variant_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        SEResNet(**kwargs)
    assert str(error.value).startswith(message)
