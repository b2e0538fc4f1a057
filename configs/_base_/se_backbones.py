# SE backbones for mmdet detectors, with mmdet's detection settings (stem and stage 1 frozen,
# BN statistics frozen) and SE-pretrained ImageNet weights from timm. Each dict carries
# `_delete_=True` so it replaces the detector base's ResNet wholesale:
#     model = dict(backbone={{_base_.se_r50}})
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
# random states saved in checkpoints and restored on resume: a resumed run continues exactly
custom_hooks = [dict(type='se_backbones.RNGStateHook')]

_detection = dict(
    _delete_=True,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
)
# missing_ok: when timm cannot provide the weights (offline, not cached) the backbone keeps its
# default init and the log says so, with how to pass a downloaded file as `checkpoint=`.
se_r50 = dict(
    type='se_backbones.SEResNet',
    depth=50,
    style='pytorch',
    init_cfg=dict(
        type='se_backbones.TimmPretrained', model_name='seresnet50.ra2_in1k', missing_ok=True
    ),
    **_detection,
)
# The SENet authors' own SE-ResNet-101 (Caffe) weights, as ported by Cadene/timm.
se_r101 = dict(
    type='se_backbones.SEResNet',
    depth=101,
    style='caffe',
    stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True),
    se_cfg=dict(divisor=1),
    init_cfg=dict(
        type='se_backbones.TimmPretrained', model_name='legacy_seresnet101.in1k', missing_ok=True
    ),
    **_detection,
)
se_x101_32x4d = dict(
    type='se_backbones.SEResNeXt',
    depth=101,
    groups=32,
    base_width=4,
    style='pytorch',
    init_cfg=dict(
        type='se_backbones.TimmPretrained',
        model_name='seresnext101_32x4d.gluon_in1k',
        missing_ok=True,
    ),
    **_detection,
)
# ECA-ResNet-50-D (timm ecaresnet50d: deep stem, avg-pool downsampling, ECA with adaptive k)
eca_r50d = dict(
    type='se_backbones.SEResNet',
    depth=50,
    style='pytorch',
    deep_stem=True,
    avg_down=True,
    se_cfg=dict(type='ECALayer'),
    init_cfg=dict(
        type='se_backbones.TimmPretrained', model_name='ecaresnet50d.miil_in1k', missing_ok=True
    ),
    **_detection,
)
# SE-PRE ResNet-50: torchvision's ResNet-50 weights for the ResNet layers, SE from scratch
se_r50_pre = dict(
    type='se_backbones.SEResNet',
    depth=50,
    style='pytorch',
    se_position='pre',
    init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
    **_detection,
)

# mmseg: SE-ResNet-50 with the layouts of mmseg's ResNetV1c configs (SyncBN, BN trained,
# contract_dilation). timm has SE-R50 ImageNet weights only for the 7x7 stem (its deep-stem
# seresnet50t has none), so the stem stays 7x7: a deep stem would start from random weights.
_segmentation = dict(
    _delete_=True,
    type='se_backbones.SEResNet',
    depth=50,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    norm_eval=False,
    style='pytorch',
    contract_dilation=True,
    init_cfg=dict(
        type='se_backbones.TimmPretrained', model_name='seresnet50.ra2_in1k', missing_ok=True
    ),
)
se_r50_d8 = dict(dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), **_segmentation)  # output stride 8
se_r50_seg = dict(dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2), **_segmentation)  # for UPerNet
