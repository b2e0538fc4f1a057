# DeepLabV3, SE-ResNet-50-D8 (timm seresnet50.ra2_in1k), Cityscapes 512x1024, 40k iterations, as
# mmseg's deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py.
_base_ = [
    'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    '../_base_/se_backbones.py',
]
model = dict(pretrained=None, backbone={{_base_.se_r50_d8}})
