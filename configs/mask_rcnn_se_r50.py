# Mask R-CNN + FPN, SE-ResNet-50 (timm seresnet50.ra2_in1k), COCO 1x: bbox and segm AP.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', './_base_/se_backbones.py']
model = dict(backbone={{_base_.se_r50}})
