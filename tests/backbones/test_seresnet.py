import pytest
import timm
import torch
import torch.nn.functional as F
from mmcv.ops import DeformConv2d
from mmdet.models.backbones import ResNet as MMDetResNet
from mmpretrain.models.backbones import SEResNet as MMPretrainSEResNet
from mmseg.models.backbones import ResNet as MMSegResNet
from mmseg.models.backbones import ResNetV1c
from torch.nn.modules.batchnorm import _BatchNorm

from se_backbones import SEResNet, SEResNeXt
from se_backbones.layers import ChannelAttention
from tests.helpers import assert_same_outputs, num_params, randomize_

NO_SE = (False, False, False, False)
STAGE_BLOCKS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}


def se_extra_params(stage_blocks, widths, ratios):
    """The SENet paper's 2/r * sum N_s C_s^2 weights, plus the biases C_s/r + C_s per block."""
    weights = sum(2 * n * c * c // r for n, c, r in zip(stage_blocks, widths, ratios, strict=True))
    biases = sum(n * (c // r + c) for n, c, r in zip(stage_blocks, widths, ratios, strict=True))
    return weights + biases


@pytest.mark.parametrize('depth', [18, 34, 50, 101, 152])
def test_stage_shapes(depth):
    model = SEResNet(depth, out_indices=(0, 1, 2, 3))
    expansion = 1 if depth < 50 else 4
    feats = model.eval()(torch.rand(2, 3, 64, 96))
    assert [tuple(f.shape) for f in feats] == [
        (2, 64 * expansion * 2**i, 16 // 2**i, 24 // 2**i) for i in range(4)
    ]
    assert [len(getattr(model, f'layer{i + 1}')) for i in range(4)] == list(STAGE_BLOCKS[depth])


@pytest.mark.parametrize('ratios', [(16, 16, 16, 16), (8, 8, 8, 8), (4, 8, 16, 32)])
def test_param_count_is_the_paper_formula(ratios):
    plain = MMDetResNet(50)
    se = SEResNet(50, se_ratio=ratios if len(set(ratios)) > 1 else ratios[0])
    expected = se_extra_params((3, 4, 6, 3), (256, 512, 1024, 2048), ratios)
    assert num_params(se) - num_params(plain) == expected
    if ratios == (16, 16, 16, 16):
        assert expected == 2_514_944 + 16_048  # 2/16 * sum N C^2 = 2.515M, as in the paper
        # and the whole backbone has exactly the parameters of timm's seresnet50
        assert num_params(se) == num_params(timm.create_model('seresnet50', num_classes=0))


@pytest.mark.parametrize(
    'depth,kwargs',
    [
        (50, dict()),
        (18, dict()),
        (50, dict(deep_stem=True)),
        (50, dict(avg_down=True)),
        (50, dict(style='caffe')),
        (101, dict(deep_stem=True, avg_down=True, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))),
        (34, dict(dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), out_indices=(1, 3))),
        (
            50,
            dict(
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 1),
                out_indices=(0, 2),
                stem_channels=32,
                base_channels=32,
            ),
        ),
        (18, dict(deep_stem=True, in_channels=1, conv_cfg=dict(type='ConvWS'), stem_channels=24)),
    ],
)
def test_without_se_is_mmdet_resnet(depth, kwargs):
    mmdet = randomize_(MMDetResNet(depth, norm_eval=False, **kwargs))
    ours = SEResNet(depth, stage_with_se=NO_SE[: kwargs.get('num_stages', 4)], **kwargs)
    assert list(ours.state_dict()) == list(mmdet.state_dict())
    ours.load_state_dict(mmdet.state_dict(), strict=True)
    assert_same_outputs(ours, mmdet, torch.randn(2, kwargs.get('in_channels', 3), 64, 64))


def test_without_se_is_mmseg_resnetv1c_with_contract_dilation():
    kwargs = dict(dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), contract_dilation=True)
    mmseg = randomize_(ResNetV1c(depth=50, **kwargs))
    ours = SEResNet(50, stage_with_se=NO_SE, deep_stem=True, **kwargs)
    ours.load_state_dict(mmseg.state_dict(), strict=True)
    assert_same_outputs(ours, mmseg, torch.randn(1, 3, 64, 64))
    # the first block of a dilated stage uses half the dilation, the others all of it
    assert [ours.layer3[0].conv2.dilation, ours.layer3[1].conv2.dilation] == [(1, 1), (2, 2)]
    assert [ours.layer4[0].conv2.dilation, ours.layer4[2].conv2.dilation] == [(2, 2), (4, 4)]
    assert [ours.layer2[0].conv2.dilation, ours.layer2[0].conv2.stride] == [(1, 1), (2, 2)]
    assert ours.layer3[0].conv2.stride == (1, 1)


def test_multi_grid_matches_mmseg():
    kwargs = dict(dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), multi_grid=(1, 2, 4))
    mmseg = randomize_(ResNetV1c(depth=50, contract_dilation=True, **kwargs))
    ours = SEResNet(50, deep_stem=True, contract_dilation=True, **kwargs)
    assert [b.conv2.dilation for b in ours.layer4] == [(1, 1), (2, 2), (4, 4)]
    with_se = set(ours.state_dict()) - set(mmseg.state_dict())
    assert with_se and all('.se_layer.' in k for k in with_se)


def test_loads_mmpretrain_seresnet_and_matches():
    theirs = randomize_(MMPretrainSEResNet(50, out_indices=(0, 1, 2, 3)))
    ours = SEResNet(50)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert 'layer1.0.se_layer.conv1.conv.weight' in ours.state_dict()
    assert_same_outputs(ours, theirs, torch.randn(2, 3, 64, 64))


def test_frozen_stages_freeze_se_layers_too():
    model = SEResNet(50, frozen_stages=2)
    model.train()
    for name, param in model.named_parameters():
        frozen = name.startswith(('conv1.', 'bn1.', 'layer1.', 'layer2.'))
        assert param.requires_grad != frozen, name
    assert not model.layer2[3].se_layer.conv1.conv.weight.requires_grad
    assert not model.layer1[0].bn1.training and model.layer3[0].bn1.training


def test_frozen_deep_stem():
    model = SEResNet(18, frozen_stages=0, deep_stem=True).train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert all(p.requires_grad for p in model.layer1.parameters())


def test_norm_eval_and_train_returns_self():
    model = SEResNet(18, norm_eval=True)
    assert model.train() is model and model.eval() is model
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert model.training and bns and not any(m.training for m in bns)
    assert all(m.training for m in SEResNet(18).train().modules() if isinstance(m, _BatchNorm))


@pytest.mark.parametrize('depth', [18, 50])
def test_with_cp_gives_the_same_gradients(depth):
    plain = randomize_(SEResNet(depth)).train()
    ckpt = SEResNet(depth, with_cp=True).train()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for model in (plain, ckpt):
        xi = x.clone().requires_grad_()
        sum(f.square().mean() for f in model(xi)).backward()
        grads.append([xi.grad] + [p.grad for p in model.parameters()])
    for g_plain, g_ckpt in zip(*grads, strict=True):
        torch.testing.assert_close(g_ckpt, g_plain)


@pytest.mark.parametrize('depth', [18, 50])
def test_with_cp_recomputes_every_block_in_backward(depth):
    """Checkpointing re-runs each block's forward during backward (so its activations are not
    kept): every block's first conv runs once in forward, and once more in backward only with
    with_cp. (Equal gradients alone cannot tell: without checkpointing they are equal too.)"""
    calls = {}
    for with_cp in (False, True):
        model = SEResNet(depth, with_cp=with_cp, base_channels=16).train()
        calls[with_cp] = block_forward_counts(model, torch.randn(2, 3, 32, 32, requires_grad=True))
    blocks = len(calls[False][0])
    assert calls[False] == ([1] * blocks, [1] * blocks)
    assert calls[True] == ([1] * blocks, [2] * blocks)


def block_forward_counts(model, x):
    """How often each block's first conv ran: after the forward, and after the backward."""
    blocks = [
        b for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for b in layer
    ]
    counts = [0] * len(blocks)
    for i, block in enumerate(blocks):
        block.conv1.register_forward_hook(
            lambda module, args, out, i=i: counts.__setitem__(i, counts[i] + 1)
        )
    out = model(x)
    after_forward = list(counts)
    sum(f.sum() for f in out).backward()
    return after_forward, counts


def test_with_cp_skips_blocks_whose_input_needs_no_gradient():
    """As mmdet's blocks (``with_cp and x.requires_grad``): with frozen_stages=1 and an image
    input, the frozen stage-1 blocks and the first block of stage 2 get inputs that need no
    gradient and run unchecked (stored activations, no recompute); every later block is
    recomputed in backward."""
    model = SEResNet(18, with_cp=True, frozen_stages=1, base_channels=16).train()
    _, counts = block_forward_counts(model, torch.randn(2, 3, 32, 32))  # an image: no gradient
    assert model.layer2[0].conv1.weight.grad is not None
    assert counts == [1, 1, 1] + [2] * (len(counts) - 3)


@pytest.mark.parametrize('depth,last_norm', [(18, 'norm2'), (50, 'norm3')])
def test_zero_init_residual(depth, last_norm):
    model = SEResNet(depth)
    model.init_weights()
    blocks = [b for i in range(4) for b in getattr(model, f'layer{i + 1}')]
    assert all(getattr(b, last_norm).weight.abs().sum() == 0 for b in blocks)
    # so a block without downsample starts as the identity (after its final ReLU)
    block = model.layer2[1].eval()
    x = torch.rand(1, block.conv1.in_channels, 8, 8)
    torch.testing.assert_close(block(x), x)
    model = SEResNet(depth, zero_init_residual=False)
    model.init_weights()
    assert getattr(model.layer2[1], last_norm).weight.abs().sum() > 0


@pytest.mark.parametrize('as_list', [False, True])
def test_timm_weights_that_are_missing_leave_the_blocks_zero_initialised(monkeypatch, as_list):
    """With only a TimmPretrained entry (alone or in a list) that ``missing_ok`` skips, the
    backbone keeps its default init, zero-initialised last norms included (docs/timm.md)."""

    def unavailable(model_name):
        raise RuntimeError(f'TimmPretrained: no weights for {model_name!r} (simulated).')

    monkeypatch.setattr('se_backbones.weights.init.timm_pretrained_state_dict', unavailable)
    timm_init = dict(type='se_backbones.TimmPretrained', model_name='seresnet18', missing_ok=True)
    model = SEResNet(18, init_cfg=[timm_init] if as_list else timm_init)
    model.init_weights()
    blocks = [b for i in range(4) for b in getattr(model, f'layer{i + 1}')]
    assert all(b.norm2.weight.abs().sum() == 0 for b in blocks)
    assert all(b.norm1.weight.abs().sum() > 0 for b in blocks)


@pytest.mark.parametrize('style', ['pretrained', 'init_cfg'])
def test_pretrained_checkpoint(tmp_path, style):
    source = randomize_(SEResNet(18))
    path = str(tmp_path / 'se_r18.pth')
    torch.save(source.state_dict(), path)
    kwargs = (
        dict(pretrained=path)
        if style == 'pretrained'
        else dict(init_cfg=dict(type='Pretrained', checkpoint=path))
    )
    model = SEResNet(18, **kwargs)
    model.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, msg=key)


def test_dcn_and_plugins():
    model = SEResNet(
        50,
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True),
        plugins=[
            dict(
                cfg=dict(type='ContextBlock', ratio=1.0 / 4),
                position='after_conv3',
                stages=(False, False, True, True),
            )
        ],
    )
    assert isinstance(model.layer2[0].conv2, DeformConv2d)
    assert not isinstance(model.layer1[0].conv2, DeformConv2d)
    assert hasattr(model.layer3[0], 'context_block') and model.layer3[0].se_layer is not None
    assert not hasattr(model.layer2[0], 'context_block')
    feats = model.eval()(torch.rand(1, 3, 128, 128))  # mmcv's DCN needs >= 3x3 inputs
    assert [f.shape[1] for f in feats] == [256, 512, 1024, 2048]


def test_group_norm_that_fits_the_widths_is_accepted():
    """mmdet's and mmseg's ResNet take it (mmseg's own backbone tests use this config)."""
    model = SEResNet(50, norm_cfg=dict(type='GN', num_groups=32, requires_grad=True))
    assert type(model.norm1).__name__ == 'GroupNorm' and model.norm1.num_groups == 32


def se_shapes(width, channels, bias=True):
    """The state-dict shapes of an SELayer of ``channels`` squeezed to ``width``."""
    shapes = {
        'conv1.conv.weight': (width, channels, 1, 1),
        'conv2.conv.weight': (channels, width, 1, 1),
    }
    if bias:
        shapes.update({'conv1.conv.bias': (width,), 'conv2.conv.bias': (channels,)})
    return shapes


WIDTHS = (16, 32, 64, 128)  # SE-ResNet-18 at base_channels=16


@pytest.mark.parametrize(
    'kwargs,expected',
    [
        (dict(), [se_shapes(8, c) for c in WIDTHS]),  # c / 16 rounds up to the divisor, 8
        (dict(se_ratio=2), [se_shapes(c // 2, c) for c in WIDTHS]),
        (
            dict(se_ratio=(2, 4, 8, 1)),
            [se_shapes(8, 16), se_shapes(8, 32), se_shapes(8, 64), se_shapes(128, 128)],
        ),
        (dict(se_ratio=4, se_cfg=dict(divisor=1)), [se_shapes(c // 4, c) for c in WIDTHS]),
        (dict(se_ratio=2, se_cfg=dict(bias=False)), [se_shapes(c // 2, c, False) for c in WIDTHS]),
        (
            dict(se_ratio=2, stage_with_se=(True, False, False, True)),
            [se_shapes(8, 16), {}, {}, se_shapes(64, 128)],
        ),
        (dict(stage_with_se=False), [{}, {}, {}, {}]),
        (dict(se_cfg=dict(type='ECALayer', kernel_size=5)), [{'conv.weight': (1, 1, 5)}] * 4),
        (  # |(log2 C + 0.5) / 1|, made odd
            dict(se_cfg=dict(type='se_backbones.ECALayer', gamma=1, b=0.5)),
            [{'conv.weight': (1, 1, k)} for k in (5, 5, 7, 7)],
        ),
        (  # the input width of each stage's first block
            dict(se_ratio=2, se_position='pre'),
            [se_shapes(c // 2, c) for c in (16, 16, 32, 64)],
        ),
    ],
)
def test_se_arguments_reach_every_stage(kwargs, expected):
    """se_ratio (one, or one per stage), stage_with_se and se_cfg's arguments, as the state dict
    of each stage's first block shows them."""
    model = SEResNet(18, base_channels=16, **kwargs)
    state = model.state_dict()
    got = [
        {
            k[len(f'layer{i}.0.se_layer.') :]: tuple(v.shape)
            for k, v in state.items()
            if k.startswith(f'layer{i}.0.se_layer.')
        }
        for i in (1, 2, 3, 4)
    ]
    assert got == expected


def test_default_se_ratio_is_the_papers_16():
    """Unset, ``se_ratio`` is the paper's r = 16 in every stage: with divisor 1 (no rounding up
    to 8), SE-ResNet-18 at base 32 squeezes 32, 64, 128, 256 channels to 2, 4, 8, 16."""
    state = SEResNet(18, base_channels=32, se_cfg=dict(divisor=1)).state_dict()
    widths = [state[f'layer{i}.0.se_layer.conv1.conv.weight'].shape[0] for i in (1, 2, 3, 4)]
    assert widths == [2, 4, 8, 16]


@pytest.mark.parametrize(
    'depth,blocks', [(26, (2, 2, 2, 2)), (200, (3, 24, 36, 3)), (269, (3, 30, 48, 8))]
)
def test_blocks_per_stage_of_the_deep_and_shallow_depths(depth, blocks):
    """timm's seresnet26d, seresnet200d and seresnet269d stage depths (bottlenecks)."""
    model = SEResNet(depth, base_channels=8, stem_channels=8)
    assert tuple(len(getattr(model, f'layer{i + 1}')) for i in range(4)) == blocks
    assert model.layer1[0].conv3.out_channels == 32  # 4 x base: a bottleneck


def partial_checkpoint(depth, path, skip):
    """A random SE-less checkpoint without the keys containing ``skip``."""
    source = randomize_(MMSegResNet(depth, base_channels=16, stem_channels=16))
    torch.save({k: v for k, v in source.state_dict().items() if skip not in k}, path)
    return str(path)


@pytest.mark.filterwarnings('ignore:DeprecationWarning')
@pytest.mark.parametrize('depth,last_norm', [(18, 'bn2'), (50, 'bn3')])
@pytest.mark.parametrize(
    'init',
    ['default', 'no zero init', 'init_cfg', 'init_cfg list', 'pretrained', 'Pretrained'],
)
def test_init_is_mmseg_resnets(depth, last_norm, init, tmp_path):
    """SE off, every init rule gives mmseg's ResNet's weights, seed for seed: Kaiming convs,
    BN at 1, each block's last norm at 0 (zero_init_residual) only with the default init;
    a user's init_cfg or checkpoint (here one without the last norms, which keep their init)
    instead."""
    kwargs = dict(base_channels=16, stem_channels=16)
    if init == 'no zero init':
        kwargs['zero_init_residual'] = False
    elif init == 'init_cfg':
        kwargs['init_cfg'] = dict(type='Constant', val=0.5, layer=['Conv2d', '_BatchNorm'])
    elif init == 'init_cfg list':
        kwargs['init_cfg'] = [
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', val=2, layer='_BatchNorm'),
        ]
    elif init == 'pretrained':
        kwargs['pretrained'] = partial_checkpoint(depth, tmp_path / 'r.pth', last_norm)
    elif init == 'Pretrained':
        kwargs['init_cfg'] = dict(
            type='Pretrained', checkpoint=partial_checkpoint(depth, tmp_path / 'r.pth', last_norm)
        )
    theirs = MMSegResNet(depth, **kwargs)
    ours = SEResNet(depth, stage_with_se=NO_SE, **kwargs)
    states = []
    for model in (theirs, ours):
        torch.manual_seed(0)
        model.init_weights()
        states.append(model.state_dict())
    assert list(states[0]) == list(states[1])
    for key, value in states[0].items():
        assert torch.equal(states[1][key], value), key
    zeroed = states[1][f'layer1.0.{last_norm}.weight'].abs().sum() == 0
    assert zeroed == (init == 'default')


def test_timm_shorthand_is_the_timm_init_cfg():
    model = SEResNet(18, pretrained='timm://seresnet18.a1_in1k')
    assert model.init_cfg == dict(
        type='se_backbones.TimmPretrained', model_name='seresnet18.a1_in1k'
    )
    with pytest.raises(ValueError) as error:
        SEResNet(18, pretrained='timm://seresnet18', init_cfg=dict(type='Kaiming'))
    assert str(error.value) == 'SEResNet: set pretrained or init_cfg, not both'


ATTENTION_TYPE = (
    "SEResNet: se_cfg['type'] must be a ChannelAttention subclass registered in se_backbones.MODELS"
)


@pytest.mark.parametrize(
    'name,message,also',
    [
        (
            'SELayr',
            f"{ATTENTION_TYPE} (se_backbones: no model 'SELayr'; did you mean "
            "se_backbones.SELayer?), got 'SELayr'",
            KeyError,
        ),
        (
            'ReLU',
            f'{ATTENTION_TYPE}: SELayer, ECALayer or one of your own (docs/extending.md), '
            "got 'ReLU'",
            ValueError,
        ),
    ],
)
def test_attention_type_refusals(name, message, also):
    """A close miss gets the registry's "did you mean" (and is also the KeyError the registry
    raises); a registered type that is no attention layer names the ones there are."""
    with pytest.raises(ValueError) as error:
        SEResNet(18, se_cfg=dict(type=name))
    assert str(error.value) == message
    assert isinstance(error.value, also)


class Loose(ChannelAttention):
    """An attention that takes anything (*args, **kwargs) but names one argument of its own."""

    def __init__(self, channels, *args, width=1, **kwargs):
        super().__init__()


@pytest.mark.parametrize(
    'se_cfg,message',
    [
        (
            dict(foo=1),
            "SEResNet: se_cfg of SELayer: unknown argument 'foo'; allowed: act_cfg, bias, "
            'conv_cfg, divisor, gate, init_cfg, squeeze, squeeze_channels',
        ),
        (
            dict(type=Loose, widht=2),
            "SEResNet: se_cfg of Loose: unknown argument 'widht' (did you mean 'width'?); "
            'allowed: width',
        ),
    ],
)
def test_unknown_attention_arguments_list_what_the_type_takes(se_cfg, message):
    """Its constructor's named arguments, but those the backbone fills (``channels``, and
    ``ratio`` from ``se_ratio``) and the catch-alls: those are not for ``se_cfg``."""
    with pytest.raises(TypeError) as error:
        SEResNet(18, se_cfg=se_cfg)
    assert str(error.value) == message


@pytest.mark.parametrize(
    'kwargs,message',
    [
        (
            dict(stem_channels=(8, 8, 16)),
            'SEResNet: stem_channels must be one positive int (3 only with deep_stem=True), '
            'got (8, 8, 16)',
        ),
        (
            dict(deep_stem=True, stem_channels=1),
            'SEResNet: stem_channels must be at least 2 with deep_stem=True, got 1',
        ),
    ],
)
def test_stem_widths_refusals(kwargs, message):
    with pytest.raises(ValueError) as error:
        SEResNet(18, **kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize(
    'stem_channels,widths',
    [(None, (8, 8, 16)), (24, (12, 12, 24)), ((8, 12, 20), (8, 12, 20)), (2, (1, 1, 2))],
)
def test_deep_stem_widths_and_strides(stem_channels, widths):
    """The deep stem: three 3x3 conv-BN-ReLU of the given widths (one width c: c // 2, c // 2,
    c; none: base_channels), the first of stride 2, as composed by hand with its weights."""
    model = randomize_(
        SEResNet(18, base_channels=16, deep_stem=True, stem_channels=stem_channels)
    ).eval()
    convs = [m for m in model.stem if isinstance(m, torch.nn.Conv2d)]
    assert [tuple(c.weight.shape) for c in convs] == [
        (widths[0], 3, 3, 3),
        (widths[1], widths[0], 3, 3),
        (widths[2], widths[1], 3, 3),
    ]
    assert all(c.bias is None for c in convs)
    x = torch.randn(1, 3, 16, 16)
    h = x
    for i, conv in enumerate(convs):
        norm = model.stem[3 * i + 1]
        h = torch.relu(norm(F.conv2d(h, conv.weight, stride=2 if i == 0 else 1, padding=1)))
    with torch.no_grad():
        torch.testing.assert_close(model.stem(x), h)


# what an architecture names, in this order; one row of values per case below
ARCHITECTURE_KEYS = (
    'type depth groups base_width style deep_stem avg_down deep_stem_channels stem_pool_cfg '
    'act_before_se se_cfg se_position'
).split()


@pytest.mark.parametrize(
    'cls,kwargs,values',
    [
        (
            SEResNet,
            dict(depth=18),
            ('SEResNet', 18, None, None, 'pytorch', False, False, (32, 32, 64))
            + (dict(kernel_size=3, stride=2, padding=1), False, {}, 'standard'),
        ),
        (
            SEResNeXt,
            dict(
                depth=26,
                groups=8,
                base_width=2,
                base_channels=16,
                style='caffe',
                deep_stem=True,
                avg_down=True,
                stem_channels=(8, 8, 16),
                stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True),
                act_before_se=True,
                se_cfg=dict(squeeze='max'),
                se_position='pre',
            ),
            ('SEResNeXt', 26, 8, 2, 'caffe', True, True, (8, 8, 16))
            + (dict(kernel_size=3, stride=2, padding=0, ceil_mode=True), True)
            + (dict(squeeze='max'), 'pre'),
        ),
    ],
)
def test_architecture_names_what_weights_depend_on(cls, kwargs, values):
    """What TimmPretrained compares with a timm model's architecture before loading."""
    assert cls(**kwargs).architecture() == dict(zip(ARCHITECTURE_KEYS, values, strict=True))


@pytest.mark.parametrize('num_stages', [0, 5])
def test_num_stages_refusal_is_also_of_mmdets_error_type(num_stages):
    """Code that catches mmdet's ResNet's error for a wrong ``num_stages`` (an
    AssertionError) catches ours too."""
    with pytest.raises(Exception) as theirs:
        MMDetResNet(50, num_stages=num_stages)
    with pytest.raises(ValueError) as ours:
        SEResNet(50, num_stages=num_stages)
    assert type(theirs.value) is AssertionError and isinstance(ours.value, AssertionError)
    assert str(ours.value) == f'SEResNet: num_stages must be one of 1, 2, 3, 4, got {num_stages}'


def test_zero_init_residual_is_checked():
    """A non-bool ``zero_init_residual`` is refused before building, as the other flags."""
    with pytest.raises(TypeError) as error:
        SEResNet(18, zero_init_residual='no')
    assert str(error.value) == "SEResNet: zero_init_residual must be True or False, got 'no'"


def test_stem_pool_cfg_that_is_not_a_dict_is_refused():
    with pytest.raises(TypeError) as error:
        SEResNet(18, stem_pool_cfg=3)
    assert (
        str(error.value)
        == 'SEResNet: stem_pool_cfg must be a dict of nn.MaxPool2d arguments, got 3'
    )
