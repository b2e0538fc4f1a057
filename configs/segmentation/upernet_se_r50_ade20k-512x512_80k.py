# UPerNet, SE-ResNet-50 (timm seresnet50.ra2_in1k), ADE20K 512x512, 80k iterations, as mmseg's
# upernet_r50_4xb4-80k_ade20k-512x512.py.
_base_ = ['mmseg::upernet/upernet_r50_4xb4-80k_ade20k-512x512.py', '../_base_/se_backbones.py']
model = dict(pretrained=None, backbone={{_base_.se_r50_seg}})
