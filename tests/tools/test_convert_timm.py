import re

import timm
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from se_backbones import MODELS
from se_backbones.weights.equivalence import max_rel_diff, randomize_, timm_stage_features
from tools.convert_timm import main


def test_backbone_checkpoint_loads_with_pretrained_init(tmp_path, capsys):
    theirs = randomize_(timm.create_model('legacy_seresnet18')).eval()
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'ours.pth')
    torch.save(theirs.state_dict(), src)
    cfg = main(['legacy_seresnet18.in1k', src, dst])
    out = capsys.readouterr().out
    assert re.search(r'layer1 SE +8\n', out) and 'classifier' not in out
    assert "type='Pretrained'" in out and "type='se_backbones.SEResNet'" in out
    ours = MODELS.build(dict(cfg, out_indices=(0, 1, 2, 3)))
    ours.init_weights()
    x = torch.randn(1, 3, 75, 75)
    with torch.no_grad():
        assert max_rel_diff(ours.eval()(x), timm_stage_features(theirs, x)) < 1e-5


def test_classifier_checkpoint_gives_timm_logits(tmp_path, capsys):
    theirs = randomize_(timm.create_model('seresnet18', num_classes=7)).eval()
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'cls.pth')
    torch.save(theirs.state_dict(), src)
    cfg = main(['seresnet18', src, dst, '--classifier'])
    assert re.search(r'classifier +2\n', capsys.readouterr().out)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MMPRETRAIN_MODELS.build(cfg)
    load_checkpoint(classifier, dst, strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert max_rel_diff([classifier.eval()(x, mode='tensor')], [theirs(x)]) < 1e-5
