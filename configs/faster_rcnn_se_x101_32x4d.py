# Faster R-CNN + FPN, SE-ResNeXt-101 32x4d (timm seresnext101_32x4d.gluon_in1k), COCO 1x.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', './_base_/se_backbones.py']
model = dict(backbone={{_base_.se_x101_32x4d}})
