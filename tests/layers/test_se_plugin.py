import pytest
import torch
from mmdet.models.backbones import ResNet
from mmdet.models.layers import SELayer as MMDetSELayer

from se_backbones import SEPlugin, SEResNet
from tests.helpers import assert_same_outputs, num_params, randomize_


def test_mmdet_resnet_with_the_plugin_is_se_resnet():
    """Same parameter count as SEResNet-50 and, given the same weights, the same features."""
    plugin = ResNet(
        50,
        out_indices=(0, 1, 2, 3),
        plugins=[dict(cfg=dict(type='se_backbones.SEPlugin', ratio=16), position='after_conv3')],
    )
    ours = randomize_(SEResNet(50, out_indices=(0, 1, 2, 3)))
    assert num_params(plugin) == num_params(ours) == 26_039_024
    plugin.load_state_dict(
        {k.replace('se_layer', 'se_plugin'): v for k, v in ours.state_dict().items()}, strict=True
    )
    assert_same_outputs(plugin, ours, torch.randn(2, 3, 64, 64))


def test_plugin_builds_from_an_mmdet_config():
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(
            dict(
                type='ResNet',
                depth=50,
                plugins=[
                    dict(
                        cfg=dict(type='se_backbones.SEPlugin', ratio=8),
                        position='after_conv3',
                        stages=(False, True, True, True),
                    )
                ],
            )
        )
    assert not hasattr(model.layer1[0], 'se_plugin')
    assert model.layer2[0].se_plugin.conv1.conv.out_channels == 64  # 512 / 8


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(),  # ratio 16: 2048 -> 128 (a ratio of 17 would round to 120)
        dict(ratio=8, act_cfg=(dict(type='Tanh'), dict(type='HSigmoid'))),
        dict(ratio=32, conv_cfg=dict(type='ConvWS')),
    ],
)
def test_plugin_is_mmdets_se_layer_with_the_arguments_given(kwargs):
    """mmdet's own SELayer (width int(C / ratio)) with the same arguments: its weights load
    strictly and the outputs are equal."""
    theirs = randomize_(MMDetSELayer(2048, **kwargs)).eval()
    ours = SEPlugin(in_channels=2048, **kwargs).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 2048, 3, 3)
    torch.testing.assert_close(ours(x), theirs(x))
