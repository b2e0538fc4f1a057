"""Turn any detection config of ours into a tiny run on the toy shapes set."""

import math
import os

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from se_backbones.engine.runner import own_visualizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = os.path.join(ROOT, 'configs')
TOY = os.path.join(CONFIGS, 'toy', 'faster_rcnn_se_r50_toy.py')
DATA_KEYS = (
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
    'val_evaluator',
    'test_evaluator',
    'default_hooks',
    'log_processor',
    'env_cfg',
    'randomness',
)


def toy_options(data_root, work_dir, max_iters=1, val_interval=1, num_train=4, num_val=2):
    """--cfg-options for configs/toy/*: data in ``data_root``, a few images and iterations."""
    return {
        'work_dir': work_dir,
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.indices': num_train,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.indices': num_val,
        'val_dataloader.batch_size': 2,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'val_evaluator.ann_file': data_root + 'annotations/instances_val.json',
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': val_interval,
        'default_hooks.checkpoint.interval': val_interval,
        'default_hooks.logger.interval': 1,
        'param_scheduler': [],
    }


def toy_test_options(data_root, work_dir, **kwargs):
    """--cfg-options for evaluating a configs/toy/* model on the toy set in ``data_root``;
    boxes of any score are kept, so an untrained model has some."""
    options = {
        k.replace('val_', 'test_', 1): v
        for k, v in toy_options(data_root, work_dir, **kwargs).items()
        if k.startswith('val_')
    }
    return dict(options, **{'model.test_cfg.rcnn.score_thr': 0.0})


def toy_config(config, data_root, work_dir, **kwargs):
    """``config`` (a COCO config of ours) with the toy config's data, at tiny size."""
    cfg = Config.fromfile(os.path.join(CONFIGS, config))
    toy = Config.fromfile(TOY)
    for key in DATA_KEYS:
        cfg[key] = toy[key]
    cfg.train_cfg = toy.train_cfg
    cfg.optim_wrapper = toy.optim_wrapper
    model = cfg.model
    model.backbone.init_cfg = None  # no downloads in tests
    for head in (
        model.get('bbox_head'),
        model.get('roi_head', {}).get('bbox_head'),
        model.get('roi_head', {}).get('mask_head'),
    ):
        if head is not None:
            head.num_classes = 3
    if 'bbox_head' in model:  # single-stage: keep every box, so an untrained model has some
        model.test_cfg.score_thr = 0.0
    if 'mask_head' in model.get('roi_head', {}):
        for pipeline in (
            cfg.train_dataloader.dataset.pipeline,
            cfg.val_dataloader.dataset.pipeline,
        ):
            for step in pipeline:
                if step['type'] == 'LoadAnnotations':
                    step['with_mask'] = True
        cfg.val_evaluator.metric = ['bbox', 'segm']
    cfg.merge_from_dict(toy_options(data_root, work_dir, **kwargs))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = cfg.val_evaluator
    return own_visualizer(cfg)


class TrainStepProbe(Hook):
    """Register it on a Runner before ``train()``: it keeps every parameter as it is before the
    first training iteration (after the weight init) and each iteration's logged losses, and
    :meth:`check` asserts the run really trained."""

    def __init__(self):
        self.before, self.losses = None, []

    @staticmethod
    def model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.before is None:
            self.before = {
                name: (p.detach().clone(), p.requires_grad)
                for name, p in self.model(runner).named_parameters()
            }

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items()})

    def check(self, runner, min_step=1e-4):
        """Every logged loss is finite; every top-level module with parameters (backbone, neck,
        heads) had one move by at least ``min_step`` (Adam's first step moves a parameter with
        a gradient by about the learning rate, 3e-4 in the toy configs; weight decay alone by
        lr * 1e-4 * |w|); frozen parameters (requires_grad False) kept their values exactly; all
        weights are finite."""
        assert self.losses and all('loss' in step for step in self.losses), self.losses
        assert all(math.isfinite(v) for step in self.losses for v in step.values()), self.losses
        moved = {}
        for name, p in self.model(runner).named_parameters():
            before, trainable = self.before[name]
            assert torch.isfinite(p).all(), name
            if not trainable:
                assert torch.equal(p.detach(), before), f'frozen {name} changed'
            top = name.split('.')[0]
            moved[top] = max(moved.get(top, 0.0), float((p.detach() - before).abs().max()))
        assert moved and all(step >= min_step for step in moved.values()), moved
        return moved
