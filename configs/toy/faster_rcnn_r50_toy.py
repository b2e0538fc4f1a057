# The plain twin of faster_rcnn_se_r50_toy.py: mmdet's ResNet-50, same data, schedule and init.
_base_ = './faster_rcnn_se_r50_toy.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
    )
)
