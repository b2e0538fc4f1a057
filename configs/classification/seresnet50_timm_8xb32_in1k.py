# mmpretrain ImageClassifier: our SE-ResNet-50 + LinearClsHead, initialised from timm's
# seresnet50.ra2_in1k classifier (its logits equal timm's). Convert the timm weights first:
#   python tools/convert_timm.py seresnet50.ra2_in1k <timm state dict> \
#       checkpoints/seresnet50_ra2_in1k_cls.pth --classifier
_base_ = 'mmpretrain::seresnet/seresnet50_8xb32_in1k.py'
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='se_backbones.SEResNet', depth=50, out_indices=(3,)),
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/seresnet50_ra2_in1k_cls.pth'),
)
