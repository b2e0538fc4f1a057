# The plain twin: mmdet's own Faster R-CNN R50 (torchvision ImageNet weights), for side-by-side
# comparisons with faster_rcnn_se_r50.py.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
