"""SEPlugin in every mmdet backbone that takes ``plugins=``: mmdet's ResNet and each of its
subclasses builds with ``dict(cfg=dict(type='se_backbones.SEPlugin', ratio=16),
position='after_conv3')`` at bottleneck depths, runs forward, and calls every SE module it holds
(whose gate changes the output). The parameter table of docs/se_twin.md is
``python -m tests.test_se_plugin_family``."""

import inspect

import pytest
import torch
from mmdet.models import backbones as mmdet_backbones
from mmdet.models.backbones.resnet import ResNet
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope

from se_backbones import SEPlugin

PLUGINS = [dict(cfg=dict(type='se_backbones.SEPlugin', ratio=16), position='after_conv3')]
# every subclass of mmdet's ResNet (they pass plugins= on to it), at its mmdet config's setting
FAMILY = {
    'ResNet': dict(depth=50),
    'ResNetV1d': dict(depth=50),
    'ResNeXt': dict(depth=50, groups=32, base_width=4),
    'Res2Net': dict(depth=50, scales=4, base_width=26),
    'ResNeSt': dict(depth=50, stem_channels=64, radix=2, reduction_factor=4, avg_down_stride=True),
    'RegNet': dict(arch='regnetx_3.2gf'),
    'DetectoRS_ResNet': dict(depth=50),
    'DetectoRS_ResNeXt': dict(depth=50, groups=32, base_width=4),
    'TridentResNet': dict(
        depth=50,
        num_branch=3,
        test_branch_idx=1,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        trident_dilations=(1, 2, 3),
        out_indices=(2,),
        num_stages=3,
    ),
}


def resnet_family():
    """mmdet's backbone classes that are its ResNet or derive from it."""
    return sorted(
        name
        for name in mmdet_backbones.__all__
        if inspect.isclass(getattr(mmdet_backbones, name))
        and issubclass(getattr(mmdet_backbones, name), ResNet)
    )


def build(name, plugins=None):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(dict(type=name, plugins=plugins, **FAMILY[name]))


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def plugin_cost(name):
    """(plain parameters, with SEPlugin, number of SE modules) of one backbone."""
    plain, se = build(name), build(name, PLUGINS)
    modules = [m for m in se.modules() if isinstance(m, SEPlugin)]
    return num_params(plain), num_params(se), len(modules)


def param_table():
    """The markdown table of docs/se_twin.md: parameters of each backbone without and with
    SEPlugin (ratio 16, after_conv3, every stage)."""
    lines = [
        '| mmdet backbone | setting | params (M) | + SEPlugin (M) | extra | SE modules |',
        '|---|---|---:|---:|---:|---:|',
    ]
    for name, kwargs in FAMILY.items():
        plain, se, count = plugin_cost(name)
        setting = ', '.join(f'{k}={v}' for k, v in kwargs.items())
        lines.append(
            f'| {name} | {setting} | {plain / 1e6:.3f} | {se / 1e6:.3f} | '
            f'+{se - plain:,} (+{100 * (se - plain) / plain:.1f} %) | {count} |'
        )
    return lines


def test_every_resnet_family_backbone_of_mmdet_is_covered():
    assert resnet_family() == sorted(FAMILY)


@pytest.mark.parametrize('name', FAMILY)
def test_se_plugin_builds_runs_and_acts_in(name):
    model = build(name, PLUGINS)
    model.eval()
    modules = [m for m in model.modules() if isinstance(m, SEPlugin)]
    blocks = [m for m in model.modules() if hasattr(m, 'after_conv3_plugin_names')]
    assert modules and len(modules) == len(blocks)  # one SE per bottleneck
    calls = []
    for m in modules:
        m.register_forward_hook(lambda *args: calls.append(1))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = [f.clone() for f in model(x)]
        assert len(calls) == len(modules)  # each SE module ran (eval: one trident branch)
        for m in modules:  # close every gate: the outputs must change
            torch.nn.init.constant_(m.conv2.conv.bias, -20.0)
        after = model(x)
    assert [f.shape for f in before] == [f.shape for f in after]
    assert any(not torch.allclose(a, b) for a, b in zip(before, after, strict=True))
    extra = sum(num_params(m) for m in modules)
    assert extra > 0
    if name in (
        'ResNet',
        'ResNetV1d',
        'ResNeXt',
        'Res2Net',
        'ResNeSt',
        'DetectoRS_ResNet',
        'DetectoRS_ResNeXt',
    ):
        assert extra == 2_530_992  # SE-ResNet-50's: same stage widths


def test_the_cost_is_counted_against_the_plain_model():
    assert plugin_cost('ResNet') == (23_508_032, 26_039_024, 16)


def test_the_plugin_needs_bottleneck_blocks():
    """mmdet's BasicBlock (depth 18, 34) does not implement plugins: it asserts."""
    with pytest.raises(AssertionError, match='Not implemented yet'):
        with DefaultScope.overwrite_default_scope('mmdet'):
            MODELS.build(dict(type='ResNet', depth=18, plugins=PLUGINS))


if __name__ == '__main__':
    print('\n'.join(param_table()))
