"""Every supported timm architecture, random weights, converted and loaded strictly into our
backbone built through mmdet's registry: features of layer1..layer4 equal timm's."""
import pytest
import timm
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from se_backbones import TIMM_ARCHS, backbone_cfg_from_timm, convert_timm_state_dict
from se_backbones.weights.equivalence import (equivalence_error, max_rel_diff, randomize_,
                                              timm_stage_features)
from tools.convert_timm import classifier_cfg

DEEP = {name for name, (_, cfg) in TIMM_ARCHS.items() if cfg['depth'] > 50}


def build_through_mmdet(cfg):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MMDET_MODELS.build(cfg)


@pytest.mark.parametrize('name', sorted(set(TIMM_ARCHS) - DEEP))
def test_features_equal_timm(name):
    # 75 is odd at every stage: the Caffe stem pool (ceil mode, no padding) differs there
    assert equivalence_error(name, 75, build=build_through_mmdet) < 1e-5


def test_deep_features_equal_timm():
    for name in sorted(DEEP):
        assert equivalence_error(name, 40, build=build_through_mmdet) < 1e-5, name


def test_a_wrong_architecture_is_detected_by_the_comparison():
    """The comparison has teeth: legacy weights in the plain (pytorch style) SE-R50 differ."""
    theirs = randomize_(timm.create_model('legacy_seresnet50'))
    ours = build_through_mmdet(dict(backbone_cfg_from_timm('seresnet50'), out_indices=(0, 1, 2, 3)))
    ours.load_state_dict(convert_timm_state_dict('legacy_seresnet50', theirs.state_dict()))
    x = torch.randn(1, 3, 75, 75)
    with torch.no_grad():
        assert max_rel_diff(ours.eval()(x), timm_stage_features(theirs, x)) > 1e-2


@pytest.mark.parametrize('name', ['seresnet50', 'legacy_seresnet18', 'seresnext26t_32x4d'])
def test_classifier_logits_equal_timm(name):
    theirs = randomize_(timm.create_model(name, num_classes=10)).eval()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MMPRETRAIN_MODELS.build(classifier_cfg(backbone_cfg_from_timm(name), 10))
    state_dict = convert_timm_state_dict(name, theirs.state_dict(), with_classifier=True)
    classifier.load_state_dict(state_dict, strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits, expected = classifier.eval()(x, mode='tensor'), theirs(x)
    assert max_rel_diff([logits], [expected]) < 1e-5
