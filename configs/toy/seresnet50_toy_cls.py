# SE-ResNet-50 classifier on the toy shapes (python -m se_backbones.data.toy_shapes
# data/toy_shapes_cls --task cls): one large shape per 128x128 image, 3 classes, from scratch on
# CPU in about 4 minutes.
_base_ = '../classification/seresnet50_timm_8xb32_in1k.py'

data_root = 'data/toy_shapes_cls/'
data_preprocessor = dict(num_classes=3)
model = dict(init_cfg=None, head=dict(num_classes=3, topk=(1,)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator

# The schedule below repeats in each toy config (det, seg, cls) on purpose: MMEngine allows a
# key in one base only, and the toolkit bases (mmdet::, mmseg::, mmpretrain::) already define
# train_cfg, optim_wrapper and default_hooks, so a shared schedule base cannot sit beside them.
max_iters = 500
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=100)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-6),
]
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-4, weight_decay=1e-4)
)
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=False),  # val metrics at their iteration
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=2),
)
log_processor = dict(by_epoch=False, window_size=10)
randomness = dict(seed=0)
