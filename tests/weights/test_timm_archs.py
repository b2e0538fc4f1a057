import pytest
import timm
import torch

from se_backbones import TIMM_ARCHS, backbone_cfg_from_timm
from se_backbones.weights.timm_archs import (
    classifier_cfg,
    resnet_widths,
    stage_widths,
    timm_stem,
)


def test_every_supported_name_is_a_timm_model():
    assert set(TIMM_ARCHS) <= set(timm.list_models())


def test_covers_timm_se_and_eca_resnets_except_other_families():
    """Every timm SE-ResNet/ResNeXt, SENet-154 and ECA-ResNet of the ResNet or legacy SENet
    families is supported, except the anti-aliased ones, the pruned ECA-ResNets (other widths)
    and ecaresnetlight (other depths); ByobNet *ts and NFNets are other families."""
    timm_names = set(timm.list_models('*seres*')) - set(timm.list_models('*seres*ts'))
    timm_names |= set(timm.list_models('ecaresnet*')) | set(timm.list_models('*senet154'))
    timm_names -= set(timm.list_models('nf_*'))
    unsupported = {n for n in timm_names if 'aa' in n or 'pruned' in n or 'light' in n}
    assert timm_names - unsupported == set(TIMM_ARCHS)


def test_pretrained_tag_is_accepted_and_configs_are_copies():
    cfg = backbone_cfg_from_timm('seresnet50.a1_in1k')
    assert cfg == dict(type='se_backbones.SEResNet', depth=50)
    # the architecture is what precedes the first dot, as timm splits a name and its tag
    assert timm.models.split_model_name_tag('seresnet50.a1.in1k')[0] == 'seresnet50'
    assert backbone_cfg_from_timm('seresnet50.a1.in1k') == cfg
    legacy = backbone_cfg_from_timm('legacy_seresnet50')
    legacy['se_cfg']['divisor'] = 8
    assert backbone_cfg_from_timm('legacy_seresnet50')['se_cfg'] == dict(divisor=1)


@pytest.mark.parametrize(
    'name', ['seresnet33ts', 'vit_base_patch16_224', 'senet50', 'seresnetaa50d.a1_in1k', 'resnet50']
)
def test_unsupported_names_are_named_with_the_supported_list(name):
    with pytest.raises(
        ValueError,
        match=rf"timm model '{name}' is not an SE-ResNet.*"
        r'supported: seresnet18, seresnet34',
    ):
        backbone_cfg_from_timm(name)


def test_a_name_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError) as error:
        backbone_cfg_from_timm(50)
    assert str(error.value) == 'model_name must be a timm model name (str), got 50'


@pytest.mark.parametrize(
    'name, layout',
    [
        ('seresnet50.a1_in1k', 'plain'),
        ('seresnext26d_32x4d', 'deep'),
        ('ecaresnet50t', 'deep'),
        ('legacy_seresnet18', 'legacy'),
        ('legacy_senet154', 'legacy_deep'),
        ('senet154', 'deep'),
    ],
)
def test_stem_layout_is_that_of_timm_s_keys(name, layout):
    """What timm's own model has: conv1/bn1, conv1.N (deep), layer0.conv1 (Cadene's SENet),
    layer0.conv1..3 (its 3-conv stem)."""
    with torch.device('meta'):
        keys = set(timm.create_model(name.split('.')[0]).state_dict())
    found = (
        ('legacy_deep' if 'layer0.conv3.weight' in keys else 'legacy')
        if 'layer0.conv1.weight' in keys
        else 'deep'
        if 'conv1.0.weight' in keys
        else 'plain'
    )
    assert found == layout
    assert timm_stem(name) == layout


@pytest.mark.parametrize(
    'kwargs, widths',
    [
        (dict(depth=18), [64, 128, 256, 512]),
        (dict(depth=34), [64, 128, 256, 512]),
        (dict(depth=26), [256, 512, 1024, 2048]),
        (dict(depth=50, num_stages=3), [256, 512, 1024]),
        (dict(depth=18, base_channels=32), [32, 64, 128, 256]),
        (dict(depth=101, expansion=2, num_stages=2), [128, 256]),
        (dict(depth=18, expansion=3), [192, 384, 768, 1536]),
    ],
)
def test_resnet_widths(kwargs, widths):
    assert resnet_widths(**kwargs) == widths


@pytest.mark.parametrize(
    'name, num_stages, widths',
    [
        ('legacy_seresnet18.in1k', 4, [64, 128, 256, 512]),
        ('seresnet34', 4, [64, 128, 256, 512]),
        ('seresnext101_64x4d', 4, [256, 512, 1024, 2048]),
        ('ecaresnet26t', 2, [256, 512]),
    ],
)
def test_stage_widths_are_those_of_timm_s_stages(name, num_stages, widths):
    assert stage_widths(name, num_stages) == widths
    if num_stages == 4:
        assert stage_widths(name) == widths
    with torch.device('meta'):
        model = timm.create_model(name.split('.')[0])
    timm_widths = [info['num_chs'] for info in model.feature_info[1:]]  # after the stem
    assert timm_widths[:num_stages] == widths


@pytest.mark.parametrize(
    'backbone, in_channels',
    [
        (dict(type='se_backbones.SEResNet', depth=18), 512),
        (dict(type='se_backbones.SEResNeXt', depth=50, groups=32, base_width=4), 2048),
        (dict(type='se_backbones.SEResNet', depth=34, base_channels=32), 256),
    ],
)
def test_classifier_cfg(backbone, in_channels):
    assert classifier_cfg(backbone, 7) == dict(
        type='ImageClassifier',
        backbone=dict(backbone, out_indices=(3,)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=7, in_channels=in_channels),
    )
    assert 'out_indices' not in backbone  # the caller's dict is left alone
