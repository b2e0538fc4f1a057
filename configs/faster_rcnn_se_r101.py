# Faster R-CNN + FPN, SE-ResNet-101 (the SENet authors' Caffe weights), COCO 1x.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', './_base_/se_backbones.py']
model = dict(backbone={{_base_.se_r101}})
