# PSPNet SE-R50-D8 on the toy shapes label maps (python -m se_backbones.data.toy_shapes
# data/toy_shapes_seg --task seg): 128x128, background + 3 classes, from scratch on CPU.
_base_ = '../segmentation/pspnet_se_r50-d8_cityscapes-512x1024_40k.py'

data_root = 'data/toy_shapes_seg/'
metainfo = dict(
    classes=('background', 'circle', 'square', 'triangle'),
    palette=[(0, 0, 0), (220, 20, 60), (0, 130, 200), (60, 180, 75)],
)
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=None),
    decode_head=dict(num_classes=4),
    auxiliary_head=dict(num_classes=4),
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
_dataset = dict(
    _delete_=True,
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.png',
    seg_map_suffix='.png',
)
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline,
        **_dataset,
    ),
)
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline,
        **_dataset,
    ),
)
test_dataloader = val_dataloader

# The schedule below repeats in each toy config (det, seg, cls) on purpose: MMEngine allows a
# key in one base only, and the toolkit bases (mmdet::, mmseg::, mmpretrain::) already define
# train_cfg, optim_wrapper and default_hooks, so a shared schedule base cannot sit beside them.
max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=100)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters, eta_min=1e-6),
]
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
)
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=False),  # val metrics at their iteration
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=2),
    visualization=dict(draw=False),
)
log_processor = dict(by_epoch=False, window_size=10)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
