"""The paths users take for speed: torch.compile, channels_last, mixed precision, and the
deploy paths (TorchScript traces). Each compares with eager NCHW float32 or with the plain
formula relu(x * gate + identity), never with our own fused function."""

import copy
import os
import re

import pytest
import torch
from packaging.version import Version

import se_backbones.backbones.se_blocks as se_blocks
from se_backbones import SEResNet, SEResNeXt
from tests.configs.toy import CONFIGS
from tests.helpers import randomize_
from tests.layers.test_scale_add_relu import plain, randomize_running_stats_

TORCH = Version(torch.__version__.split('+')[0])
CL = torch.channels_last
DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}
# CPU autocast takes float16 from torch 2.2 (2.1 warns and runs float32)
needs_cpu_fp16 = pytest.mark.skipif(
    TORCH < Version('2.2'), reason='CPU autocast float16 needs torch >= 2.2'
)


def eval_with_random_stats(model):
    """Eval-mode BN with random running statistics: the gradients of two layouts or two
    compilers can then be compared at float32 rounding (batch statistics of a few samples on
    1x1 maps would amplify rounding differences)."""
    return randomize_running_stats_(randomize_(model)).eval()


def loss_and_grads(model, x):
    x = x.clone().requires_grad_()
    out = model(x)
    out = out if isinstance(out, (tuple, list)) else (out,)
    sum(f.float().square().mean() for f in out).backward()
    return [f.detach() for f in out], [x.grad] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('se_cfg', [None, dict(type='ECALayer')])
def test_no_graph_break_in_the_backbone(train, se_cfg):
    """Dynamo captures the whole backbone as one graph, in train and eval mode."""
    torch._dynamo.reset()
    model = SEResNet(50, base_channels=16, out_indices=(0, 1, 2, 3), se_cfg=se_cfg).train(train)
    explained = torch._dynamo.explain(model)(torch.randn(2, 3, 32, 32))
    assert (explained.graph_count, explained.graph_break_count) == (1, 0), explained.break_reasons


@pytest.mark.skipif(TORCH < Version('2.2'), reason='fullgraph autograd.Function: torch >= 2.2')
@pytest.mark.parametrize('train', [True, False])
def test_fullgraph_compile_equals_eager(train):
    """``fullgraph=True`` (which raises on any graph break) trains and infers as eager does."""
    torch._dynamo.reset()
    model = eval_with_random_stats(SEResNet(18, base_channels=16, out_indices=(0, 1, 2, 3)))
    model.train(train)
    eager = copy.deepcopy(model)
    x = torch.randn(2, 3, 32, 32)
    compiled = torch.compile(model, backend='aot_eager', fullgraph=True)
    for ours, reference in zip(
        *(sum(loss_and_grads(m, x), []) for m in (compiled, eager)), strict=True
    ):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-4)


def inductor_kernels(block, x, train):
    """The names of the kernels inductor generates for ``block`` (forward, and backward in
    train mode): each fuses the ops its name lists."""
    from torch._inductor.utils import run_and_get_code

    torch._dynamo.reset()
    compiled = torch.compile(block.train(train))

    def step():
        out = compiled(x)
        if train:
            out.sum().backward()
        return out

    _, codes = run_and_get_code(step)
    return [name for code in codes for name in re.findall(r'^(cpp_fused_\w+) = ', code, re.M)]


@pytest.mark.parametrize('train', [True, False])
def test_inductor_fuses_the_squeeze_and_the_block_end(train):
    """Under inductor an SE bottleneck's squeeze is summed in the pass that writes the branch's
    last norm output, and scale + add + ReLU (with the gate's sigmoid) is one pass; in train
    mode the gate's gradient (sum over H, W) is summed in the pass of ReLU's backward."""
    block = randomize_(se_blocks.SEBottleneck(64, 16, se_cfg=dict(ratio=4)))
    x = torch.randn(2, 64, 8, 8, requires_grad=train)
    names = inductor_kernels(block, x, train)

    def fused(*ops):
        return [n for n in names if all(op in n for op in ops)]

    assert fused('batch_norm', 'mean'), names
    assert fused('add', 'mul', 'relu', 'sigmoid'), names
    if train:
        assert fused('sum', 'threshold_backward', 'mul'), names


@pytest.mark.parametrize('train', [True, False])
def test_channels_last_stays_channels_last_and_equals_nchw(train):
    """Every block's output (eager, train and eval mode) and the input's gradient are
    channels_last, with NCHW's values (BN in eval mode, ``norm_eval=True``, so that the values
    compare at float32 rounding)."""
    model = eval_with_random_stats(
        SEResNeXt(
            50, groups=4, base_width=4, base_channels=16, norm_eval=True, out_indices=(0, 1, 2, 3)
        )
    )
    model.train(train)
    nhwc = copy.deepcopy(model).to(memory_format=CL)
    layouts = []
    for stage in (nhwc.layer1, nhwc.layer2, nhwc.layer3, nhwc.layer4):
        for block in stage:
            block.register_forward_hook(
                lambda m, args, out: layouts.append(out.is_contiguous(memory_format=CL))
            )
    x = torch.randn(2, 3, 32, 32)
    (out_a, grads_a), (out_b, grads_b) = (
        loss_and_grads(model, x),
        loss_and_grads(nhwc, x.contiguous(memory_format=CL)),
    )
    assert layouts == [True] * 16
    assert grads_b[0].is_contiguous(memory_format=CL)
    for ours, reference in zip(out_b + grads_b, out_a + grads_a, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-4)


def test_compiled_channels_last_block_keeps_the_layout():
    """Inductor keeps a channels_last SE bottleneck channels_last, with eager's values."""
    torch._dynamo.reset()
    block = eval_with_random_stats(se_blocks.SEBottleneck(64, 16, se_cfg=dict(ratio=4)))
    block = block.to(memory_format=CL)
    x = torch.randn(2, 64, 8, 8).contiguous(memory_format=CL)
    out = torch.compile(block)(x)
    assert out.is_contiguous(memory_format=CL)
    torch.testing.assert_close(out, block(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('dtype', ['bf16', 'fp16'])
def test_block_end_agrees_with_the_plain_formula_at_low_precision(dtype):
    """At bf16/fp16 the fused end's output and gradients are as close to the float64 formula
    as the plain formula's at that dtype (relative error norms; the gate's gradient, recovered
    from the rounded output, within 1.5x)."""
    dtype = DTYPES[dtype]
    gen = torch.Generator().manual_seed(0)
    x, identity, grad = (torch.randn(4, 64, 14, 14, generator=gen).to(dtype) for _ in range(3))
    gate = torch.sigmoid(2 * torch.randn(4, 64, 1, 1, generator=gen)).to(dtype)
    results = {}
    for fn, at in ((plain, torch.float64), (se_blocks.scale_add_relu, dtype), (plain, dtype)):
        inputs = [t.to(at).requires_grad_() for t in (x, gate, identity)]
        out = fn(*inputs)
        out.backward(grad.to(at))
        assert out.dtype == at and all(t.grad.dtype == at for t in inputs)
        results[fn, at] = [out.double()] + [t.grad.double() for t in inputs]

    def errors(key):
        return [
            float((a - b).norm() / b.norm())
            for a, b in zip(results[key], results[plain, torch.float64], strict=True)
        ]

    for ours, theirs in zip(
        errors((se_blocks.scale_add_relu, dtype)), errors((plain, dtype)), strict=True
    ):
        assert ours <= 1.5 * theirs + 1e-6, (ours, theirs)


@pytest.mark.parametrize('dtype', ['bf16', pytest.param('fp16', marks=needs_cpu_fp16)])
def test_train_step_under_autocast_is_finite(dtype):
    model = randomize_(SEResNet(50, base_channels=16, out_indices=(0, 1, 2, 3))).train()
    with torch.autocast('cpu', dtype=DTYPES[dtype]):
        out = model(torch.randn(2, 3, 64, 64))
    assert {f.dtype for f in out} == {DTYPES[dtype]}
    loss = sum(f.float().square().mean() for f in out)
    loss.backward()
    assert loss.isfinite()
    assert all(p.grad.isfinite().all() for p in model.parameters())


@pytest.mark.parametrize('dtype', ['bf16', pytest.param('fp16', marks=needs_cpu_fp16)])
def test_faster_rcnn_toy_train_step_under_autocast_is_finite(dtype):
    """Faster R-CNN SE-R50 (the toy config) with its backbone and neck under autocast. The
    heads run in float32: mmcv 2.1's CPU nms and RoIAlign take float32 only (for mmdet's own
    ResNet as well)."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData

    cfg = Config.fromfile(os.path.join(CONFIGS, 'toy', 'faster_rcnn_se_r50_toy.py'))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = DET_MODELS.build(cfg.model).train()
    extract_feat = model.extract_feat

    def autocast_feat(inputs):
        with torch.autocast('cpu', dtype=DTYPES[dtype]):
            feats = extract_feat(inputs)
        assert {f.dtype for f in feats} == {DTYPES[dtype]}
        return tuple(f.float() for f in feats)

    model.extract_feat = autocast_feat
    samples = []
    for boxes in ([[4.0, 4.0, 30.0, 30.0]], [[20.0, 10.0, 60.0, 50.0], [8.0, 30.0, 40.0, 62.0]]):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(64, 64),
                ori_shape=(64, 64),
                scale_factor=(1.0, 1.0),
                pad_shape=(64, 64),
                batch_input_shape=(64, 64),
            )
        )
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes), labels=torch.zeros(len(boxes), dtype=torch.long)
        )
        samples.append(sample)
    loss, _ = model.parse_losses(model.loss(torch.randn(2, 3, 64, 64), samples))
    loss.backward()
    assert loss.isfinite()
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert len(grads) > 100 and all(g.isfinite().all() for g in grads)


@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('grad', [True, False])
def test_jit_trace_equals_eager(train, grad):
    """``torch.jit.trace(model, x)``, the deploy idiom, with grad enabled or not, in train or
    eval mode, gives eager's outputs."""
    model = eval_with_random_stats(SEResNet(50, base_channels=16, out_indices=(2, 3)))
    model.train(train)
    eager = copy.deepcopy(model)
    x = torch.randn(2, 3, 32, 32)
    with torch.set_grad_enabled(grad):
        traced = torch.jit.trace(model, x, check_trace=False)
        for ours, reference in zip(traced(x), eager(x), strict=True):
            torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
