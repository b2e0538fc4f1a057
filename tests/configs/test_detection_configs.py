import glob
import os

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from se_backbones import SEResNet, SEResNeXt
from tests.configs.toy import CONFIGS, TrainStepProbe, toy_config
from tests.helpers import MMDET_DETECTION_SETTINGS

DETECTION = [
    'faster_rcnn_se_r50.py',
    'faster_rcnn_se_r101.py',
    'faster_rcnn_se_x101_32x4d.py',
    'retinanet_se_r50.py',
    'mask_rcnn_se_r50.py',
    'faster_rcnn_r50.py',
    'faster_rcnn_eca_r50d.py',
    'faster_rcnn_se_r50_pre.py',
]


def all_configs():
    paths = glob.glob(os.path.join(CONFIGS, '**', '*.py'), recursive=True)
    return sorted(os.path.relpath(p, CONFIGS) for p in paths if '_base_' not in p)


def test_every_detection_config_is_smoke_tested():
    """Each detection config (configs/*.py; segmentation, classification and toy ones are in
    their folders) is in DETECTION, so it runs a train and a val step below, and each listed
    one exists."""
    found = sorted(
        os.path.basename(p)
        for p in glob.glob(os.path.join(CONFIGS, '*.py'))
        if not os.path.basename(p).startswith('_')
    )
    assert len(found) >= 8, CONFIGS
    assert sorted(DETECTION) == found, (
        f'not smoke-tested: {sorted(set(found) - set(DETECTION))}, '
        f'listed but missing: {sorted(set(DETECTION) - set(found))}'
    )
    assert {'toy/faster_rcnn_se_r50_toy.py', 'toy/faster_rcnn_r50_toy.py'} <= set(all_configs())


@pytest.mark.parametrize('config', all_configs())
def test_config_loads_and_builds(config):
    cfg = Config.fromfile(os.path.join(CONFIGS, config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    if '_se_' in config or '_eca_' in config:
        assert isinstance(model.backbone, (SEResNet, SEResNeXt))
        # ImageNet weights: timm's, or for SE-PRE (no such weights) torchvision's ResNet-50
        expected = 'Pretrained' if '_pre' in config else 'se_backbones.TimmPretrained'
        assert 'toy' in config or model.backbone.init_cfg['type'] == expected


def test_se_backbones_replace_the_resnet_wholesale():
    cfg = Config.fromfile(os.path.join(CONFIGS, 'faster_rcnn_se_r101.py'))
    assert cfg.model.backbone == dict(
        type='se_backbones.SEResNet',
        depth=101,
        style='caffe',
        num_stages=4,
        **MMDET_DETECTION_SETTINGS,
        stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True),
        se_cfg=dict(divisor=1),
        init_cfg=dict(
            type='se_backbones.TimmPretrained',
            model_name='legacy_seresnet101.in1k',
            missing_ok=True,
        ),
    )
    assert cfg.model.backbone == {**cfg.se_r101, 'type': 'se_backbones.SEResNet'}


@pytest.mark.parametrize('base', ['faster-rcnn_r50_fpn.py', 'retinanet_r50_fpn.py'])
def test_mmdets_detection_settings_are_those_of_its_bases(base):
    """The settings the tests expect of detection backbones are mmdet's own."""
    import mmdet

    root = os.path.join(os.path.dirname(mmdet.__file__), '.mim', 'configs', '_base_', 'models')
    cfg = Config.fromfile(os.path.join(root, base))
    assert {k: cfg.model.backbone[k] for k in MMDET_DETECTION_SETTINGS} == (
        MMDET_DETECTION_SETTINGS
    )


@pytest.mark.parametrize('config', DETECTION)
def test_one_train_and_one_val_step_on_the_toy_set(config, toy_root, tmp_path):
    runner = Runner.from_cfg(toy_config(config, toy_root, str(tmp_path)))
    probe = TrainStepProbe()
    runner.register_hook(probe)
    runner.train()
    assert runner.iter == 1
    moved = probe.check(runner)  # finite losses, every part trained, frozen stages kept
    assert {'backbone', 'neck'} <= set(moved)
    metrics = runner.val_loop.run()
    assert 'coco/bbox_mAP' in metrics
    if 'mask' in config:
        assert 'coco/segm_mAP' in metrics
