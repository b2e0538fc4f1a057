"""The fused SE end writes into the branch's own tensor in training only where nothing else
keeps that tensor for backward."""

import pytest
import torch

from se_backbones.backbones.se_blocks import SEBasicBlock, SEBottleneck

CONTEXT_BLOCK = dict(cfg=dict(type='ContextBlock', ratio=1.0 / 4), position='after_conv3')


def block_output_is_last_norms_output(block):
    seen = {}
    norm = getattr(block, block.last_norm)
    handle = norm.register_forward_hook(lambda m, i, o: seen.update(ptr=o.data_ptr()))
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    out = block.train()(x)
    out.sum().backward()  # autograd raises here if a kept tensor was overwritten
    handle.remove()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    return out.data_ptr() == seen['ptr']


@pytest.mark.parametrize(
    'kwargs, inplace',
    [
        (dict(), True),
        (dict(se_cfg=dict(type='SELayer', ratio=4, squeeze='avgmax')), False),
        (dict(se_cfg=dict(type='ECALayer')), True),
        (dict(se_cfg=dict(type='ECALayer', squeeze='max')), False),
        (dict(act_before_se=True), False),
        (dict(plugins=[CONTEXT_BLOCK]), False),
    ],
)
def test_training_writes_into_the_branch_only_where_nothing_keeps_it(kwargs, inplace):
    kwargs.setdefault('se_cfg', dict(type='SELayer', ratio=4))
    block = (
        SEBottleneck(16, 4, **kwargs)
        if 'plugins' in kwargs or 'act_before_se' not in kwargs
        else SEBasicBlock(16, 16, **kwargs)
    )
    assert block_output_is_last_norms_output(block) == inplace


@pytest.mark.skipif(
    tuple(map(int, torch.__version__.split('.')[:2])) < (2, 2),
    reason="torch 2.1's dynamo breaks the graph at autograd.Function with "
    'non-tensor arguments (plain torch.compile works, with graph breaks)',
)
def test_train_mode_compiles_as_one_graph():
    """torch.compile(fullgraph=True) in training: no graph break in the fused SE end (dynamo
    cannot trace mark_dirty, so nothing is written in place while compiling)."""
    from se_backbones import SEResNet

    model = SEResNet(18, frozen_stages=1, norm_eval=True).train()
    x = torch.randn(2, 3, 64, 64)
    expected = model(x)
    compiled = torch.compile(model, fullgraph=True, backend='aot_eager')
    out = compiled(x)
    sum(o.sum() for o in out).backward()
    assert all(torch.equal(a, b) for a, b in zip(out, expected, strict=True))
