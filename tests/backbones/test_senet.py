import pytest
import timm
import torch

from se_backbones import SENet154
from tests.helpers import num_params


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


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(dcn=dict(type='DCN')), 'SENet154: dcn must be None'),
        (
            dict(plugins=[dict(cfg=dict(type='ContextBlock'), position='after_conv3')]),
            'SENet154: plugins must be None',
        ),
        (dict(depth=101), 'SENet154: depth must be one of 154'),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SENet154(**kwargs)
