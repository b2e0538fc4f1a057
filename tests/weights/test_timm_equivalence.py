"""Every supported timm architecture, random weights, converted and loaded strictly into our
backbone built through mmdet's registry: features of layer1..layer4 equal timm's."""

import pytest
import timm
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from se_backbones import TIMM_ARCHS, backbone_cfg_from_timm, convert_timm_state_dict
from se_backbones.weights.equivalence import (
    equivalence_error,
    max_rel_diff,
    randomize_,
    timm_stage_features,
)
from se_backbones.weights.timm_archs import classifier_cfg

# Tolerance of the comparison (max |ours - timm| / max |timm|, float32, random weights): 1e-5
# for the nets of up to 50 layers (18, 26, 34, 50), compared at 75x75; 1e-4 for the deeper ones
# (101, 152, 154, 200, 269 layers), at a tiny 40x40 input (the deep nets' cost is in building
# them), where rounding differences between the two implementations compound over up to 89
# blocks. Both hold with a wide margin: on this machine (torch 2.14, CPU) every architecture's
# error is exactly 0 (same kernels, same order, eval mode).
SHALLOW_REL_TOL, DEEP_REL_TOL, MAX_SHALLOW_DEPTH = 1e-5, 1e-4, 50
DEEP = {name for name, (_, cfg) in TIMM_ARCHS.items() if cfg['depth'] > MAX_SHALLOW_DEPTH}


def tolerance(name):
    return DEEP_REL_TOL if name in DEEP else SHALLOW_REL_TOL


def build_through_mmdet(cfg):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MMDET_MODELS.build(cfg)


def on_meta(build):
    """``build``, run on the meta device (no default weight init: most of the time to build a
    deep net) and materialised uninitialised. Every float tensor is filled next: timm's by
    ``randomize_``, ours by the strict ``load_state_dict`` of timm's; integer buffers (BN's
    num_batches_tracked) are zeroed."""

    def wrapped(*args, **kwargs):
        with torch.device('meta'):
            model = build(*args, **kwargs)
        model = model.to_empty(device='cpu')
        for buffer in model.buffers():
            if not buffer.is_floating_point():
                buffer.zero_()
        return model

    return wrapped


@pytest.mark.parametrize('name', sorted(TIMM_ARCHS))
def test_features_equal_timm(name, monkeypatch):
    # 75 is odd at every stage: the Caffe stem pool (ceil mode, no padding) differs there, as it
    # does at 40 (20 after the stem conv: ceil gives 10, floor 9)
    monkeypatch.setattr(timm, 'create_model', on_meta(timm.create_model))
    size = 40 if name in DEEP else 75
    assert equivalence_error(name, size, build=on_meta(build_through_mmdet)) < tolerance(name)


def test_the_tolerances_cover_every_architecture_by_depth():
    depths = {name: cfg['depth'] for name, (_, cfg) in TIMM_ARCHS.items()}
    assert {tolerance(n) for n, d in depths.items() if d <= 50} == {1e-5}
    assert {tolerance(n) for n, d in depths.items() if d > 50} == {1e-4}
    assert len(DEEP) == 17 and min(depths[n] for n in DEEP) == 101


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
