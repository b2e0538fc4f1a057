# Faster R-CNN + FPN with SE-PRE ResNet-50 (SENet paper, Fig. 5: SE on the block input, before
# the residual branch; 22.23 vs standard SE's 22.28 top-1 error on ImageNet). No ImageNet weights
# exist for it: the ResNet-50 layers start from torchvision's weights (as mmdet's R50 config),
# the SE layers from scratch (MMEngine's Pretrained loader lists them as missing). COCO 1x.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', './_base_/se_backbones.py']
model = dict(backbone={{_base_.se_r50_pre}})
