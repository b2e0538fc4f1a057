import pytest
import timm
import torch
import torch.nn.functional as F

from se_backbones import SENet154
from se_backbones.backbones import SENetBottleneck
from tests.helpers import num_params, randomize_


def test_architecture_of_senet154():
    model = SENet154(out_indices=(0, 1, 2, 3))
    assert (
        num_params(model)
        == num_params(timm.create_model('legacy_senet154', pretrained=False, num_classes=0))
        == 113_039_984
    )
    assert [m.out_channels for m in model.stem if hasattr(m, 'out_channels')] == [64, 64, 128]
    block = model.layer2[0]
    assert (
        block.conv1.out_channels,
        block.conv2.out_channels,
        block.conv2.groups,
        block.conv3.out_channels,
    ) == (256, 512, 64, 512)
    assert block.conv2.stride == (2, 2) and block.se_layer.squeeze_channels == 512 // 16
    kernels = [
        layer[0].downsample[0].kernel_size
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4)
    ]
    assert kernels == [(1, 1), (3, 3), (3, 3), (3, 3)]
    model.eval()
    out = model(torch.randn(1, 3, 75, 75))
    assert [tuple(f.shape) for f in out] == [
        (1, 256, 19, 19),
        (1, 512, 10, 10),
        (1, 1024, 5, 5),
        (1, 2048, 3, 3),
    ]


def test_its_defaults_in_the_first_two_stages():
    """SENet-154's defaults at full width, as test_architecture_of_senet154 checks them on the
    whole 113M-parameter model, in its first two stages only (milliseconds): the 3-conv stem
    64-64-128, the ceil-mode stem pool without padding, 64-group 3x3 convs from
    2 * planes to 4 * planes, SE widths C // 16, a 1x1 downsample in stage 1 and a 3x3 one in
    stage 2."""
    model = SENet154(num_stages=2, strides=(1, 2), dilations=(1, 1), out_indices=(0, 1))
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert [state[f'stem.{i}.weight'] for i in (0, 3, 6)] == [
        (64, 3, 3, 3),
        (64, 64, 3, 3),
        (128, 64, 3, 3),
    ]
    assert [state[f'layer{i}.0.{name}.weight'] for i in (1, 2) for name in ('conv2', 'conv3')] == [
        (256, 2, 3, 3),  # 1x1 conv to 2 * 64, 64 groups of 2 channels
        (256, 256, 1, 1),
        (512, 4, 3, 3),
        (512, 512, 1, 1),
    ]
    assert [state[f'layer{i}.0.se_layer.conv1.conv.weight'][0] for i in (1, 2)] == [16, 32]
    assert [state[f'layer{i}.0.downsample.0.weight'] for i in (1, 2)] == [
        (256, 128, 1, 1),
        (512, 256, 3, 3),
    ]
    assert [k for k in state if k.startswith('layer2.0.downsample.0.')] == [
        'layer2.0.downsample.0.weight'  # no bias: a BN follows
    ]
    # 73 -> 37 (stem) -> 18: kernel 3, stride 2, no padding, ceil mode (mmdet's padded pool: 19)
    assert [tuple(f.shape) for f in model.eval()(torch.randn(1, 3, 73, 73))] == [
        (1, 256, 18, 18),
        (1, 512, 9, 9),
    ]


def test_se_width_is_c_over_16_not_rounded():
    """As timm's legacy_senet154 (``channels // reduction``): 48 channels squeeze to 3, where
    SELayer's default divisor would round up to 8."""
    model = SENet154(
        num_stages=1,
        strides=(1,),
        dilations=(1,),
        out_indices=(0,),
        base_channels=12,
        groups=8,
        stem_channels=(8, 8, 16),
    )
    assert model.state_dict()['layer1.0.se_layer.conv1.conv.weight'].shape == (3, 48, 1, 1)


@pytest.mark.parametrize(
    'kwargs,message',
    [
        (
            dict(dcn=dict(type='DCN')),
            "SENet154: dcn must be None (not supported by SENet-154 blocks), got {'type': 'DCN'}",
        ),
        (
            dict(plugins=[dict(cfg=dict(type='ContextBlock'), position='after_conv3')]),
            'SENet154: plugins must be None (not supported by SENet-154 blocks), got '
            "[{'cfg': {'type': 'ContextBlock'}, 'position': 'after_conv3'}]",
        ),
        (dict(depth=101), 'SENet154: depth must be one of 154, got 101'),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        SENet154(**kwargs)
    assert str(error.value) == message


def test_small_senet154_keeps_its_defaults_and_takes_overrides():
    """A narrow SENet-154 (base 16, 8 groups): the 3-conv stem and ceil-mode pool of the
    defaults, SE widths C // 16 without rounding up to 8 (timm's legacy_senet154: 64 // 16 = 4),
    3x3 downsample convs from stage 2 on; a given stem_pool_cfg replaces the default."""
    model = SENet154(base_channels=16, groups=8, stem_channels=(8, 8, 16), out_indices=(0, 3))
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert [state[f'stem.{i}.weight'] for i in (0, 3, 6)] == [
        (8, 3, 3, 3),
        (8, 8, 3, 3),
        (16, 8, 3, 3),
    ]
    assert [state[f'layer{i}.0.se_layer.conv1.conv.weight'][0] for i in (1, 2, 3, 4)] == [
        4,
        8,
        16,
        32,
    ]
    assert [state[f'layer{i}.0.downsample.0.weight'][2:] for i in (1, 2, 3, 4)] == [(1, 1)] + [
        (3, 3)
    ] * 3
    assert [tuple(f.shape) for f in model.eval()(torch.randn(1, 3, 75, 75))] == [
        (1, 64, 19, 19),
        (1, 512, 3, 3),
    ]
    model = SENet154(base_channels=16, groups=8, stem_pool_cfg=dict(kernel_size=4, stride=4))
    assert model.eval()(torch.randn(1, 3, 75, 75))[3].shape == (1, 512, 2, 2)  # 38 -> 9


@pytest.mark.parametrize('style, dilation', [('pytorch', 1), ('caffe', 1), ('pytorch', 2)])
def test_senet_bottleneck_is_the_papers_block(style, dilation):
    """1x1 conv to 2 * planes, grouped 3x3 conv to 4 * planes with the stride (caffe style:
    the 1x1 conv has it) and the dilation, 1x1 conv to 4 * planes, SE where asked (here after
    the 3x3 conv: 4 * planes wide); composed by hand."""
    stride1, stride2 = (2, 1) if style == 'caffe' else (1, 2)
    downsample = torch.nn.Sequential(
        torch.nn.Conv2d(32, 64, 1, stride=2, bias=False), torch.nn.BatchNorm2d(64)
    )
    block = randomize_(
        SENetBottleneck(
            32,
            16,
            groups=8,
            stride=2,
            downsample=downsample,
            se_cfg=dict(ratio=4),
            se_position='after_conv2',
            style=style,
            dilation=dilation,
        )
    ).eval()
    shapes = {k: tuple(v.shape) for k, v in block.state_dict().items() if k.endswith('weight')}
    assert {k: v for k, v in shapes.items() if not k.startswith('downsample')} == {
        'conv1.weight': (32, 32, 1, 1),
        'bn1.weight': (32,),
        'conv2.weight': (64, 4, 3, 3),
        'bn2.weight': (64,),
        'se_layer.conv1.conv.weight': (16, 64, 1, 1),
        'se_layer.conv2.conv.weight': (64, 16, 1, 1),
        'conv3.weight': (64, 64, 1, 1),
        'bn3.weight': (64,),
    }
    x = torch.randn(2, 32, 8, 8)
    h = torch.relu(block.bn1(F.conv2d(x, block.conv1.weight, stride=stride1)))
    h = F.conv2d(
        h, block.conv2.weight, stride=stride2, padding=dilation, dilation=dilation, groups=8
    )
    h = torch.relu(block.bn2(h))
    h = block.bn3(F.conv2d(block.se_layer(h), block.conv3.weight))
    with torch.no_grad():
        torch.testing.assert_close(block(x), torch.relu(h + downsample(x)))
    assert SENetBottleneck(128, 32).state_dict()['conv2.weight'].shape == (
        128,
        1,
        3,
        3,
    )  # 64 groups


def test_conv_cfg_reaches_the_3x3_downsample_convs():
    """The 3x3 downsample conv that replaces mmdet's 1x1 one is built from ``conv_cfg`` too, as
    every other conv (here mmcv's weight-standardised ConvWS2d)."""
    model = SENet154(
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        base_channels=16,
        groups=8,
        stem_channels=(8, 8, 16),
        out_indices=(1,),
        conv_cfg=dict(type='ConvWS'),
    )
    block = model.layer2[0]
    convs = [model.stem[0], block.conv1, block.conv2, block.conv3, *block.downsample[:1]]
    assert [type(c).__name__ for c in convs] == ['ConvWS2d'] * 5
    assert model.layer2[0].downsample[0].kernel_size == (3, 3)
