"""The fused SE end writes into the branch's own tensor in training only where nothing else
keeps that tensor for backward; in inference always."""

import pytest
import torch

from se_backbones.backbones.se_blocks import SEBasicBlock, SEBottleneck

CONTEXT_BLOCK = dict(cfg=dict(type='ContextBlock', ratio=1.0 / 4), position='after_conv3')


def block_output_is_last_norms_output(block, train=True):
    seen = {}
    norm = getattr(block, block.last_norm)
    handle = norm.register_forward_hook(lambda m, i, o: seen.update(ptr=o.data_ptr()))
    x = torch.randn(2, 16, 6, 6, requires_grad=train)
    with torch.set_grad_enabled(train):
        out = block.train(train)(x)
    if train:
        out.sum().backward()  # autograd raises here if a kept tensor was overwritten
        assert x.grad is not None and torch.isfinite(x.grad).all()
    handle.remove()
    return out.data_ptr() == seen['ptr']


CASES = [
    (dict(), True),
    (dict(se_cfg=dict(type='SELayer', ratio=4, squeeze='avgmax')), False),
    (dict(se_cfg=dict(type='ECALayer')), True),
    (dict(se_cfg=dict(type='ECALayer', squeeze='max')), False),
    (dict(act_before_se=True), False),
    (dict(plugins=[CONTEXT_BLOCK]), False),
]


def make_block(kwargs):
    kwargs = dict(kwargs)
    kwargs.setdefault('se_cfg', dict(type='SELayer', ratio=4))
    if 'plugins' in kwargs or 'act_before_se' not in kwargs:
        return SEBottleneck(16, 4, **kwargs)
    return SEBasicBlock(16, 16, **kwargs)


@pytest.mark.parametrize('kwargs, inplace', CASES)
def test_training_writes_into_the_branch_only_where_nothing_keeps_it(kwargs, inplace):
    assert block_output_is_last_norms_output(make_block(kwargs)) == inplace


@pytest.mark.parametrize('kwargs', [k for k, _ in CASES if 'plugins' not in k])
def test_inference_writes_into_the_branch(kwargs):
    """Without autograd nothing keeps the branch: the end never allocates a new tensor."""
    assert block_output_is_last_norms_output(make_block(kwargs), train=False)


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


class KeepsItsOutput(torch.nn.Module):
    """A plugin whose backward reads its own output (exp's gradient is exp)."""

    def __init__(self, in_channels):
        super().__init__()

    def forward(self, x):
        return torch.exp(x.clamp(max=5))


@pytest.fixture
def keeps_its_output():
    from mmengine.registry import MODELS

    MODELS.register_module(name='KeepsItsOutput', module=KeepsItsOutput)
    yield dict(cfg=dict(type='KeepsItsOutput'), position='after_conv3')
    MODELS._module_dict.pop('KeepsItsOutput')


def test_an_after_conv3_plugin_that_keeps_its_output_is_not_written_into(keeps_its_output):
    """The end writes into the branch only if nothing keeps it: a plugin's output may be kept
    (backward would raise, or be wrong, if the end overwrote it)."""
    torch.manual_seed(0)
    block = SEBottleneck(16, 4, se_cfg=dict(type='SELayer', ratio=4), plugins=[keeps_its_output])
    assert not block_output_is_last_norms_output(block)


@pytest.mark.parametrize(
    'block', [SEBottleneck(16, 4, with_cp=True), SEBasicBlock(16, 16, with_cp=True)]
)
def test_with_cp_checkpoints_without_reentry(block):
    """``with_cp`` recomputes the block in backward with non-reentrant checkpointing, which
    ``torch.autograd.grad`` can go through (reentrant checkpointing refuses it), with the
    gradient of the block run without checkpointing."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    (grad,) = torch.autograd.grad(block.train()(x).square().sum(), x)
    block.with_cp = False
    (expected,) = torch.autograd.grad(block(x).square().sum(), x)
    torch.testing.assert_close(grad, expected)
