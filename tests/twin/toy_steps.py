"""One training step of a twin on the toy sets, with weights from a local timm checkpoint (a
randomized timm model: no network here); shared by the twin tests and the sweep's sample."""

import os

import timm
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from se_backbones import convert_timm_state_dict
from se_backbones.data import make_toy_shapes
from se_backbones.engine.runner import own_visualizer, revert_sync_bn
from se_backbones.weights.equivalence import randomize_
from tests.configs.toy import CONFIGS, DATA_KEYS, TOY, TrainStepProbe, toy_options

TOY_SEG = os.path.join(CONFIGS, 'toy', 'pspnet_se_r50-d8_toy.py')
TOY_CLS = os.path.join(CONFIGS, 'toy', 'seresnet50_toy_cls.py')


def save_timm(arch, folder, seed=0):
    """A randomized timm ``arch`` (random BN statistics too) saved in ``folder``: its path."""
    path = os.path.join(str(folder), f'{arch}.pth')
    torch.manual_seed(seed)
    torch.save(randomize_(timm.create_model(arch)).state_dict(), path)
    return path


def set_num_classes(node, num_classes):
    """Every ``num_classes`` in a model config (heads, cascades, mask heads)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'num_classes':
                node[key] = num_classes
            else:
                set_num_classes(value, num_classes)
    elif isinstance(node, list):
        for value in node:
            set_num_classes(value, num_classes)


def has_key(node, name):
    if isinstance(node, dict):
        return name in node or any(has_key(v, name) for v in node.values())
    return isinstance(node, list) and any(has_key(v, name) for v in node)


def run_one_step(cfg):
    runner = Runner.from_cfg(own_visualizer(cfg))
    probe = TrainStepProbe()
    runner.register_hook(probe)
    runner.train()
    assert runner.iter == 1
    return runner, probe


def detection(cfg, toy_root, work_dir):
    toy = Config.fromfile(TOY)
    for key in DATA_KEYS:
        cfg[key] = toy[key]
    cfg.optim_wrapper = toy.optim_wrapper
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=10)
    set_num_classes(cfg.model, 3)
    if has_key(cfg.model, 'mask_head'):
        for step in cfg.train_dataloader.dataset.pipeline:
            if step['type'] == 'LoadAnnotations':
                step['with_mask'] = True
    cfg.merge_from_dict(toy_options(toy_root, work_dir, val_interval=10))
    return cfg


def segmentation(cfg, root, work_dir):
    make_toy_shapes(root, num_train=4, num_val=2, size=64, task='seg')
    toy = Config.fromfile(TOY_SEG)
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
    set_num_classes(cfg.model, 4)
    return loaders(cfg, root, work_dir, ('train', 'val'), 2)


def classification(cfg, root, work_dir):
    make_toy_shapes(root, num_train=6, num_val=3, size=64, task='cls')
    toy = Config.fromfile(TOY_CLS)
    for key in (
        'train_dataloader',
        'val_dataloader',
        'val_evaluator',
        'test_dataloader',
        'test_evaluator',
        'default_hooks',
        'log_processor',
        'optim_wrapper',
    ):
        cfg[key] = toy[key]
    if cfg.get('data_preprocessor'):
        cfg.data_preprocessor.num_classes = 3
    set_num_classes(cfg.model, 3)
    if isinstance(cfg.model.get('head'), dict) and 'topk' in cfg.model.head:
        cfg.model.head.topk = (1,)
    cfg.model.pop('train_cfg', None)  # mixup/cutmix batch augments need the base's classes
    return loaders(cfg, root, work_dir, ('train', 'val', 'test'), 3)


def loaders(cfg, root, work_dir, splits, batch_size):
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=10)
    cfg.param_scheduler = []
    for split in splits:
        cfg[f'{split}_dataloader'].update(
            batch_size=batch_size, num_workers=0, persistent_workers=False
        )
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.work_dir = work_dir
    revert_sync_bn(cfg.model)
    return cfg


def train_step(path, scope, tmp_path, toy_root=None):
    """Load the twin at ``path``, put it on the toy set of its toolkit and train one step:
    ``(runner, probe)``."""
    cfg = Config.fromfile(path)
    work = str(tmp_path / 'work')
    if scope == 'mmdet':
        cfg = detection(cfg, toy_root, work)
        revert_sync_bn(cfg.model)
    elif scope == 'mmseg':
        cfg = segmentation(cfg, str(tmp_path / 'seg') + '/', work)
    else:
        cfg = classification(cfg, str(tmp_path / 'cls') + '/', work)
    return run_one_step(cfg)


def check_loaded(probe, arch, timm_file):
    """Before the step the backbone held the timm file's weights (every tensor timm has)."""
    expected = convert_timm_state_dict(arch, torch.load(timm_file))
    found = 0
    for key, (value, _) in probe.before.items():
        name = key[len('backbone.') :]
        if key.startswith('backbone.') and name in expected:
            assert torch.equal(value, expected[name]), key
            found += 1
    assert found == sum(
        1
        for k in expected
        if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))
    )
