"""What mmdet's own ResNet tests check (tests/test_models/test_backbones/test_resnet.py in
mmdetection; its wheel does not install them) and mmseg's suite does not: the stem widths,
mmdet's ``ResLayer`` with ``downsample_first=False``, the narrow nets mmdet's tests build
(``base_channels`` 1 to 4) and the refusals' exception types. Written for our classes, SE on;
mmseg's file runs as it ships (test_mmseg_resnet_suite.py).

mmdet's ``ResNet`` defaults to ``norm_eval=True``, ours (as mmseg's) to False: the nets whose
last stage is 1x1 for one image run with ``norm_eval=True``, as mmdet's do by default.
"""

import pickle

import pytest
import torch
from mmdet.models.layers import ResLayer

from se_backbones import SEResNet, SEResNeXt
from se_backbones.backbones.se_blocks import PluginBuildError, SEBasicBlock, SEBottleneck

CONTEXT = dict(type='ContextBlock', ratio=1.0 / 16)


def features(model, size=32):
    model.train()
    return [tuple(f.shape) for f in model(torch.randn(1, 3, size, size))]


@pytest.mark.parametrize(
    'kwargs,stem,layer1_in',
    [
        (dict(), 64, 64),
        (dict(base_channels=3), 3, 3),
        (dict(stem_channels=3), 3, 3),
        (dict(stem_channels=3, base_channels=2), 3, 3),
    ],
)
def test_stem_width(kwargs, stem, layer1_in):
    model = SEResNet(50, **kwargs)
    assert model.stem_channels == stem
    assert model.conv1.out_channels == model.norm1.num_features == stem
    assert model.layer1[0].conv1.in_channels == layer1_in


def test_deep_stem_width():
    """mmdet's ResNetV1d(stem_channels=6): three convs of 3, 3 and 6 channels."""
    model = SEResNet(50, deep_stem=True, avg_down=True, stem_channels=6)
    assert [model.stem[i].out_channels for i in (0, 3, 6)] == [3, 3, 6]
    assert [model.stem[i].num_features for i in (1, 4, 7)] == [3, 3, 6]
    assert model.layer1[0].conv1.in_channels == 6


def test_res_layer_downsample_last():
    """mmdet's ResLayer with downsample_first=False (its HourglassNet's) takes our blocks."""
    layer = ResLayer(
        SEBasicBlock, 64, 64, 3, stride=2, downsample_first=False, se_cfg=dict(type='SELayer')
    )
    assert layer[2].downsample[0].out_channels == 64
    assert layer[2].downsample[0].stride == (2, 2)
    assert all(layer[i].downsample is None for i in range(2))
    assert all(block.se_layer is not None for block in layer)
    assert layer(torch.randn(1, 64, 56, 56)).shape == (1, 64, 28, 28)


@pytest.mark.parametrize(
    'kwargs,shapes',
    [
        (dict(base_channels=1), [(1, 4, 8, 8), (1, 8, 4, 4), (1, 16, 2, 2), (1, 32, 1, 1)]),
        (
            dict(base_channels=1, with_cp=True),
            [(1, 4, 8, 8), (1, 8, 4, 4), (1, 16, 2, 2), (1, 32, 1, 1)],
        ),
        (dict(base_channels=1, out_indices=(0, 1, 2)), [(1, 4, 8, 8), (1, 8, 4, 4), (1, 16, 2, 2)]),
        (
            dict(base_channels=4, norm_cfg=dict(type='GN', num_groups=2, requires_grad=True)),
            [(1, 16, 8, 8), (1, 32, 4, 4), (1, 64, 2, 2), (1, 128, 1, 1)],
        ),
        (
            dict(base_channels=2, deep_stem=True, avg_down=True),
            [(1, 8, 8, 8), (1, 16, 4, 4), (1, 32, 2, 2), (1, 64, 1, 1)],
        ),
    ],
)
def test_narrow_nets_with_se(kwargs, shapes):
    """mmdet's tests' narrow ResNet-50s, each block with its SE layer (at least one channel)."""
    model = SEResNet(50, norm_eval=True, **kwargs)
    assert all(
        block.se_layer is not None for layer in model.res_layers for block in getattr(model, layer)
    )
    assert features(model) == shapes


def test_plugins_beside_se_in_a_narrow_net():
    plugins = [
        dict(
            cfg=dict(
                type='GeneralizedAttention',
                spatial_range=-1,
                num_heads=8,
                attention_type='0010',
                kv_stride=2,
            ),
            stages=(False, True, True, True),
            position='after_conv2',
        ),
        dict(cfg=dict(type='NonLocal2d'), position='after_conv2'),
        dict(cfg=CONTEXT, stages=(False, True, True, False), position='after_conv3'),
    ]
    model = SEResNet(50, plugins=plugins, base_channels=8, norm_eval=True)
    block = model.layer2[0]
    assert (
        block.nonlocal_block.in_channels,
        block.gen_attention_block.in_channels,
        block.context_block.in_channels,
    ) == (16, 16, 64)
    assert not hasattr(model.layer4[0], 'context_block')
    assert features(model) == [(1, 32, 8, 8), (1, 64, 4, 4), (1, 128, 2, 2), (1, 256, 1, 1)]


REFUSALS = {  # mmdet's test_resnet_backbone: what ResNet refuses, and the type it raises
    'depth': (dict(depth=20), KeyError),
    'no stage': (dict(depth=50, num_stages=0), AssertionError),
    'five stages': (dict(depth=50, num_stages=5), AssertionError),
    'dcn flags': (
        dict(
            depth=50,
            dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
            stage_with_dcn=(True,),
        ),
        AssertionError,
    ),
    'plugin stages': (
        dict(
            depth=50,
            plugins=[dict(cfg=CONTEXT, stages=(False, True, True), position='after_conv3')],
        ),
        AssertionError,
    ),
    'strides': (dict(depth=50, strides=(1,), dilations=(1, 1), num_stages=3), AssertionError),
    'pretrained': (dict(depth=50, pretrained=0), TypeError),
    'style': (dict(depth=50, style='tensorflow'), AssertionError),
    'duplicate plugin': (
        dict(
            depth=50,
            plugins=[
                dict(cfg=CONTEXT, position='after_conv2'),
                dict(cfg=CONTEXT, position='after_conv3'),
            ],
        ),
        AssertionError,
    ),
    'unknown plugin': (
        dict(depth=50, plugins=[dict(cfg=dict(type='WrongPlugin'), position='after_conv3')]),
        KeyError,
    ),
    'unknown norm': (dict(depth=50, norm_cfg=dict(type='BatchNorm')), KeyError),
}


@pytest.mark.parametrize('cls', [SEResNet, SEResNeXt])
@pytest.mark.parametrize('kwargs,toolkit_type', REFUSALS.values(), ids=list(REFUSALS))
def test_refusals_keep_the_toolkits_type(cls, kwargs, toolkit_type):
    """Each refusal is our one-line error naming the argument, and also what mmdet raises."""
    with pytest.raises(toolkit_type) as caught:
        cls(**kwargs)
    message = str(caught.value)
    assert isinstance(caught.value, (ValueError, TypeError))
    assert message.startswith(f'{cls.__name__}: ') and ' must be ' in message, message
    assert '\n' not in message
    assert pickle.loads(pickle.dumps(caught.value)).args == caught.value.args


@pytest.mark.parametrize(
    'plugins,toolkit_type',
    [
        ([dict(cfg=CONTEXT, position='after_conv3')] * 2, AssertionError),
        ([dict(cfg=dict(type='WrongPlugin'), position='after_conv3')], KeyError),
    ],
)
def test_block_plugin_errors_are_both_types(plugins, toolkit_type):
    with pytest.raises(PluginBuildError) as caught:
        SEBottleneck(64, 16, plugins=plugins)
    assert isinstance(caught.value, toolkit_type)
    assert str(caught.value).startswith(f'{toolkit_type.__name__} at in_channels=64: ')


class LongComplaint(torch.nn.Module):
    """A plugin that refuses to build, with a long message over several lines."""

    def __init__(self, in_channels):
        raise ValueError('a plugin\n\n   that  does not fit:\n' + 'abcdefghij' * 30)


def test_a_block_plugin_error_is_one_line_of_at_most_200_characters_of_the_reason():
    with pytest.raises(PluginBuildError) as caught:
        SEBottleneck(64, 16, plugins=[dict(cfg=dict(type=LongComplaint), position='after_conv3')])
    reason = 'a plugin that does not fit: ' + 'abcdefghij' * 17 + 'ab'
    assert len(reason) == 200
    assert str(caught.value) == f'ValueError at in_channels=64: {reason}'
    assert isinstance(caught.value, ValueError)
