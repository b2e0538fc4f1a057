# Faster R-CNN + FPN with ECA-ResNet-50-D (ECA-Net, Wang et al.: adaptive-k 1-D channel
# attention, 86 extra weights), from timm's ImageNet weights ecaresnet50d.miil_in1k; COCO 1x.
# Compare with faster_rcnn_se_r50.py and faster_rcnn_r50.py, trained the same way: the ECA paper
# reports Faster R-CNN R50 36.4 / SE-R50 37.7 / ECA-R50 38.0 AP (its ECA-R50 has the plain 7x7
# stem; timm's ImageNet ECA-R50 is the D variant: deep stem and avg-pool downsampling).
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', './_base_/se_backbones.py']
model = dict(backbone={{_base_.eca_r50d}})
