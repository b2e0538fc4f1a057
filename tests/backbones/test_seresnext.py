import pytest
import torch
from mmdet.models.backbones import ResNeXt as MMDetResNeXt
from mmpretrain.models.backbones import SEResNeXt as MMPretrainSEResNeXt

from se_backbones import SEResNeXt
from tests.backbones.test_seresnet import NO_SE, se_extra_params
from tests.helpers import assert_same_outputs, num_params, randomize_


@pytest.mark.parametrize(
    'depth,groups,base_width', [(50, 32, 4), (101, 32, 4), (101, 64, 4), (101, 32, 8), (152, 32, 4)]
)
def test_stage_shapes_and_group_widths(depth, groups, base_width):
    model = SEResNeXt(depth, groups=groups, base_width=base_width, out_indices=(0, 1, 2, 3))
    feats = model.eval()(torch.rand(1, 3, 64, 64))
    assert [tuple(f.shape) for f in feats] == [
        (1, 256 * 2**i, 16 // 2**i, 16 // 2**i) for i in range(4)
    ]
    for i in range(4):
        conv2 = getattr(model, f'layer{i + 1}')[0].conv2
        assert (conv2.groups, conv2.out_channels) == (groups, groups * base_width * 2**i)


def test_default_is_32x4d():
    """The default is the paper's 32x4d (mmpretrain's and timm's seresnext*_32x4d): stage 1's
    grouped 3x3 conv is 32 groups of 4 channels, 128 wide."""
    model = SEResNeXt(26, num_stages=1, strides=(1,), dilations=(1,), out_indices=(0,))
    assert model.layer1[0].conv2.weight.shape == (128, 4, 3, 3)


def test_param_count_is_the_paper_formula():
    plain = MMDetResNeXt(depth=50, groups=32, base_width=4)
    se = SEResNeXt(50)
    assert num_params(se) - num_params(plain) == se_extra_params(
        (3, 4, 6, 3), (256, 512, 1024, 2048), (16, 16, 16, 16)
    )


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(),
        dict(deep_stem=True, avg_down=True, style='caffe'),
        dict(groups=8, base_width=8, base_channels=32, stem_channels=32),
    ],
)
def test_without_se_is_mmdet_resnext(kwargs):
    kwargs = dict(dict(groups=32, base_width=4), **kwargs)
    mmdet = randomize_(MMDetResNeXt(depth=50, norm_eval=False, **kwargs))
    ours = SEResNeXt(50, stage_with_se=NO_SE, **kwargs)
    assert list(ours.state_dict()) == list(mmdet.state_dict())
    ours.load_state_dict(mmdet.state_dict(), strict=True)
    assert_same_outputs(ours, mmdet, torch.randn(1, 3, 64, 64))


def test_loads_mmpretrain_seresnext_and_matches():
    theirs = randomize_(
        MMPretrainSEResNeXt(50, groups=32, width_per_group=4, out_indices=(0, 1, 2, 3))
    )
    ours = SEResNeXt(50, groups=32, base_width=4)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert_same_outputs(ours, theirs, torch.randn(1, 3, 64, 64))


def test_plugins_after_grouped_conv_get_the_group_width():
    model = SEResNeXt(
        50, plugins=[dict(cfg=dict(type='ContextBlock', ratio=1.0 / 4), position='after_conv2')]
    )
    assert model.layer1[0].context_block.in_channels == 128
    assert model.eval()(torch.rand(1, 3, 32, 32))[3].shape == (1, 2048, 1, 1)
