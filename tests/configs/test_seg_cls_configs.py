import os

import mmseg as mmseg_package
import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from se_backbones.data import make_toy_shapes
from se_backbones.engine.runner import own_visualizer, revert_sync_bn
from se_backbones.weights.equivalence import max_rel_diff, randomize_
from tests.configs.toy import CONFIGS, TrainStepProbe
from tools.convert_timm import main as convert_timm

SEG = [
    'segmentation/pspnet_se_r50-d8_cityscapes-512x1024_40k.py',
    'segmentation/deeplabv3_se_r50-d8_cityscapes-512x1024_40k.py',
]


@pytest.fixture(scope='module')
def toy_seg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_seg'))
    make_toy_shapes(root, num_train=4, num_val=2, size=64, task='seg')
    return root + '/'


def conv_layout(backbone):
    return {
        name: (m.stride, m.dilation, m.padding)
        for name, m in backbone.named_modules()
        if isinstance(m, torch.nn.Conv2d) and name.startswith('layer') and '.se_layer.' not in name
    }


def test_d8_dilations_are_mmseg_resnetv1c_ones():
    ours = Config.fromfile(os.path.join(CONFIGS, SEG[0])).model.backbone
    mmseg = Config.fromfile(
        os.path.join(
            os.path.dirname(mmseg_package.__file__),
            '.mim',
            'configs',
            '_base_',
            'models',
            'pspnet_r50-d8.py',
        )
    ).model.backbone
    with DefaultScope.overwrite_default_scope('mmseg'):
        ours_model = MMSEG_MODELS.build(dict(ours, init_cfg=None, norm_cfg=dict(type='BN')))
        mmseg_model = MMSEG_MODELS.build(dict(mmseg, norm_cfg=dict(type='BN')))
    assert conv_layout(ours_model) == conv_layout(mmseg_model)
    assert ours_model.layer4[0].conv2.dilation == (2, 2)  # contracted: 4 // 2
    assert ours_model.layer4[1].conv2.dilation == (4, 4)
    assert ours_model.layer3[0].conv2.stride == (1, 1)
    assert ours_model.layer2[0].conv2.stride == (2, 2)
    assert not ours_model.deep_stem  # timm's SE-R50 weights have the 7x7 stem


def toy_seg_config(config, root, work_dir):
    cfg = Config.fromfile(os.path.join(CONFIGS, config))
    toy = Config.fromfile(os.path.join(CONFIGS, 'toy', 'pspnet_se_r50-d8_toy.py'))
    for key in (
        'train_dataloader',
        'val_dataloader',
        'val_evaluator',
        'default_hooks',
        'log_processor',
        'env_cfg',
        'optim_wrapper',
    ):
        cfg[key] = toy[key]
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.model.backbone.init_cfg = None
    cfg.model.decode_head.num_classes = cfg.model.auxiliary_head.num_classes = 4
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1)
    cfg.param_scheduler = []
    for split in ('train', 'val'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = root
    cfg.work_dir = work_dir
    revert_sync_bn(cfg.model)
    return own_visualizer(cfg)


@pytest.mark.parametrize('config', SEG)
def test_one_train_and_one_val_step_on_toy_label_maps(config, toy_seg_root, tmp_path):
    runner = Runner.from_cfg(toy_seg_config(config, toy_seg_root, str(tmp_path)))
    probe = TrainStepProbe()
    runner.register_hook(probe)
    runner.train()
    assert runner.iter == 1
    moved = probe.check(runner)  # finite losses, every part trained
    assert set(moved) == {'backbone', 'decode_head', 'auxiliary_head'}
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100


def test_classifier_config_gives_timm_logits(tmp_path, monkeypatch):
    theirs = randomize_(timm.create_model('seresnet50', num_classes=1000)).eval()
    torch.save(theirs.state_dict(), str(tmp_path / 'timm.pth'))
    monkeypatch.chdir(tmp_path)  # the config's checkpoint path is relative
    os.makedirs('checkpoints')
    convert_timm(
        [
            'seresnet50.ra2_in1k',
            'timm.pth',
            'checkpoints/seresnet50_ra2_in1k_cls.pth',
            '--classifier',
        ]
    )
    cfg = Config.fromfile(os.path.join(CONFIGS, 'classification', 'seresnet50_timm_8xb32_in1k.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MMPRETRAIN_MODELS.build(cfg.model)
    classifier.init_weights()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert max_rel_diff([classifier.eval()(x, mode='tensor')], [theirs(x)]) < 1e-5


def test_toy_classification_step_reports_top1(tmp_path):
    root = str(tmp_path / 'cls') + '/'
    make_toy_shapes(root, num_train=6, num_val=3, size=64, task='cls')
    cfg = Config.fromfile(os.path.join(CONFIGS, 'toy', 'seresnet50_toy_cls.py'))
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    cfg.param_scheduler = []
    for split in ('train', 'val'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=3, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = root
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(own_visualizer(cfg))
    probe = TrainStepProbe()
    runner.register_hook(probe)
    runner.train()
    assert runner.iter == 1
    assert set(probe.check(runner)) == {'backbone', 'head'}  # finite loss, both trained
    metrics = runner.val_loop.run()
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert runner.train_dataloader.dataset.metainfo['classes'] == ('circle', 'square', 'triangle')
