"""init_cfg=TimmPretrained(...) alone: the backbone's default init (Kaiming convs, unit norms,
zero-initialised last norms) is what the timm weights overwrite, and what missing_ok keeps."""

import torch

from se_backbones import SEResNet


def unavailable(model_name):
    raise RuntimeError(f'no weights for {model_name!r} (simulated offline)')


def test_missing_ok_alone_keeps_the_default_init_of_a_backbone_without_init_cfg(monkeypatch):
    monkeypatch.setattr('se_backbones.weights.init.timm_pretrained_state_dict', unavailable)
    monkeypatch.setattr('se_backbones.weights.init.print_log', lambda *a, **k: None)
    torch.manual_seed(0)
    reference = SEResNet(depth=50)
    reference.init_weights()
    torch.manual_seed(0)
    model = SEResNet(
        depth=50,
        init_cfg=dict(type='se_backbones.TimmPretrained', model_name='seresnet50', missing_ok=True),
    )
    model.init_weights()
    ours, theirs = model.state_dict(), reference.state_dict()
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key
    # the independent facts: zero-initialised last norms, Kaiming (fan_out) conv spreads
    assert ours['layer1.0.bn3.weight'].abs().sum() == 0
    conv = ours['layer3.0.conv2.weight']
    expected_std = (2 / (conv.shape[0] * conv[0, 0].numel())) ** 0.5
    assert abs(conv.std().item() / expected_std - 1) < 0.05
