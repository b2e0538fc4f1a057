"""The recipes of docs/extending.md, run as written there."""

import re

import pytest
import torch

from se_backbones import TIMM_ARCHS, SEResNet
from se_backbones.weights.equivalence import equivalence_error
from tests.configs.toy import ROOT

DOC = open(f'{ROOT}/docs/extending.md').read()


def doc_code(heading):
    """The first python block under ``heading`` in docs/extending.md."""
    section = DOC.split(f'## {heading}\n', 1)[1]
    return re.search(r'```python\n(.*?)```', section, re.S).group(1)


@pytest.fixture
def attention_recipe():
    from se_backbones import MODELS

    namespace = {}
    exec(doc_code('A new attention type'), namespace)
    yield namespace
    MODELS.module_dict.pop('GatedMean', None)


def test_a_new_attention_type_trains_a_step_through_se_cfg(attention_recipe):
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MMDET_MODELS.build(dict(attention_recipe['backbone'], out_indices=(0, 3)))
    gated = attention_recipe['GatedMean']
    layers = [m for m in model.modules() if isinstance(m, gated)]
    assert len(layers) == 16
    assert layers[0].scale.flatten()[0] == 1 / 8  # se_ratio=8 reached the layer as ratio
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    before = [p.detach().clone() for p in (layers[0].scale, layers[0].bias)]
    loss = sum(f.square().mean() for f in model(torch.randn(2, 3, 64, 64)))
    loss.backward()
    optimizer.step()
    assert loss.isfinite()
    assert all(
        not torch.equal(b, p)
        for b, p in zip(before, (layers[0].scale, layers[0].bias), strict=True)
    )


def test_the_block_asks_the_contract_not_the_class(attention_recipe, monkeypatch):
    """The recipe's layer says fusable: the fused end runs; saying not fusable, the block
    scales and adds as plain ops, with the same result."""
    import se_backbones.backbones.se_blocks as se_blocks

    calls = []
    monkeypatch.setattr(
        se_blocks,
        'scale_add_relu',
        lambda *a, **k: calls.append(1) or torch.relu(a[0] * a[1] + a[2]),
    )
    model = SEResNet(18, se_cfg=dict(type='GatedMean')).eval()
    x = torch.randn(1, 3, 32, 32)
    fused = model(x)
    assert len(calls) == 8
    monkeypatch.setattr(attention_recipe['GatedMean'], 'fusable', False)
    plain = model(x)
    assert len(calls) == 8
    for a, b in zip(fused, plain, strict=True):
        torch.testing.assert_close(a, b)


def test_an_attention_outside_the_contract_is_refused_in_one_line():
    from se_backbones import MODELS

    @MODELS.register_module(force=True)
    class NotAnAttention(torch.nn.Module):
        def gate(self, x):
            return x

    try:
        with pytest.raises(ValueError, match=r"se_cfg\['type'\].*ChannelAttention subclass"):
            SEResNet(18, se_cfg=dict(type='NotAnAttention'))
    finally:
        MODELS.module_dict.pop('NotAnAttention')


def test_a_new_timm_architecture_is_one_table_line(monkeypatch):
    """The recipe's line, added to a table without it, reproduces timm's model. (A copy of the
    table stands in for it: the real one keeps its order for the other tests.)"""
    import se_backbones.weights.timm_archs as timm_archs

    line = re.search(r"`('seresnet34': \('SEResNet', dict\(depth=34\)\))`", DOC).group(1)
    table = {k: v for k, v in TIMM_ARCHS.items() if k != 'seresnet34'}
    monkeypatch.setattr(timm_archs, 'TIMM_ARCHS', table)
    with pytest.raises(ValueError, match='not an SE-ResNet that se_backbones reproduces'):
        equivalence_error('seresnet34')
    name, entry = eval('{' + line + '}').popitem()
    table[name] = entry
    assert equivalence_error('seresnet34', size=64) <= 1e-5
