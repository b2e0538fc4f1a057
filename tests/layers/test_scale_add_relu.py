import inspect
import io
import re

import pytest
import torch

import se_backbones.backbones.se_blocks as se_blocks
from se_backbones import SEResNet
from se_backbones.layers import scale_add_relu
from se_backbones.layers.scale_add_relu import _ScaleAddReLU
from tests.helpers import randomize_, saved_mib


def plain(x, gate, identity, inplace=False, shortcut_bn=None):
    return torch.relu(x * gate + identity)


def test_gradcheck_float64():
    x = torch.randn(2, 5, 4, 3, dtype=torch.float64, requires_grad=True)
    gate = (torch.rand(2, 5, 1, 1, dtype=torch.float64) * 0.9 + 0.05).requires_grad_()
    identity = torch.randn(2, 5, 4, 3, dtype=torch.float64, requires_grad=True)
    # tolerances of float64 (a float32 step anywhere, e.g. in the gate's sum, fails them)
    assert torch.autograd.gradcheck(
        _ScaleAddReLU.apply, (x, gate, identity, None, None, False), atol=1e-9, rtol=1e-8
    )


@pytest.mark.parametrize('channels_last', [False, True])
def test_equals_the_straightforward_formula_forward_and_backward(channels_last):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 16, 7, 5, generator=gen)
    gate = torch.sigmoid(torch.randn(3, 16, 1, 1, generator=gen))
    identity = torch.randn(3, 16, 7, 5, generator=gen)
    if channels_last:
        x, identity = (t.contiguous(memory_format=torch.channels_last) for t in (x, identity))
    grad = torch.randn(3, 16, 7, 5, generator=gen)
    results = []
    for fn in (scale_add_relu, plain):
        inputs = [t.clone().requires_grad_() for t in (x, gate, identity)]
        out = fn(*inputs)
        out.backward(grad)
        results.append([out] + [t.grad for t in inputs])
    for ours, reference in zip(*results, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kwargs', [dict(depth=18), dict(depth=50, with_cp=True)])
def test_block_gradients_equal_the_unfused_ones(kwargs, monkeypatch):
    fused = randomize_(SEResNet(**kwargs)).train()
    unfused = SEResNet(**kwargs).train()
    unfused.load_state_dict(fused.state_dict())
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for model, fn in ((fused, scale_add_relu), (unfused, plain)):
        monkeypatch.setattr(se_blocks, 'scale_add_relu', fn)
        xi = x.clone().requires_grad_()
        sum(f.square().mean() for f in model(xi)).backward()
        grads.append([xi.grad] + [p.grad for p in model.parameters()])
    for ours, reference in zip(*grads, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('avg_down', [False, True])  # a shortcut of (conv, BN) or (pool, conv, BN)
def test_neither_the_scaled_branch_nor_the_shortcut_is_kept_for_backward(monkeypatch, avg_down):
    model, x = SEResNet(50, avg_down=avg_down).train(), torch.randn(1, 3, 64, 64)
    fused = saved_mib(model, x)
    monkeypatch.setattr(se_blocks, 'scale_add_relu', plain)
    unfused = saved_mib(model, x)
    # one (C, H, W) float tensor less per SE block, the first block of each stage included:
    # its shortcut (a downsample's BN output) is recomputed from the BN's input in backward
    expected = (
        sum(
            n * c * (16 // s) ** 2
            for n, c, s in ((3, 256, 1), (4, 512, 2), (6, 1024, 4), (3, 2048, 8))
        )
        * 4
        / 2**20
    )
    assert unfused - fused == pytest.approx(expected, rel=0.01)


def test_gradcheck_on_a_small_se_block_float64():
    block = se_blocks.SEBasicBlock(8, 8, se_cfg=dict(ratio=2)).double().train()
    randomize_(block)
    x = torch.randn(2, 8, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,))


def small_downsampling_block():
    """An SE basic block with a stride-2 conv + BN shortcut (as a stage's first block)."""
    downsample = torch.nn.Sequential(
        torch.nn.Conv2d(8, 16, 1, stride=2, bias=False), torch.nn.BatchNorm2d(16)
    )
    return se_blocks.SEBasicBlock(8, 16, stride=2, downsample=downsample, se_cfg=dict(ratio=4))


@pytest.mark.parametrize('backend', ['aot_eager', 'inductor'])
def test_torch_compile_gives_the_eager_plain_formulas_results(backend, monkeypatch):
    """The custom autograd function traces under torch.compile: same outputs and gradients as
    the eager model with the plain formula relu(x * gate + identity) at every block end.
    ``aot_eager`` (Dynamo + AOTAutograd trace the forward and the backward, no code generation)
    on a whole SE-ResNet-18; ``inductor`` (CPU code generation, the slow part) on one small
    downsampling block. (Eval-mode BN, with random running statistics, so the fused backward
    recomputes the downsampling shortcuts with them; batch statistics over 2 samples of 1x1 maps
    would amplify rounding differences. The fused function runs whenever grads are recorded.)"""
    torch._dynamo.reset()
    if backend == 'aot_eager':
        make, x = (lambda: SEResNet(18)), torch.randn(2, 3, 64, 64)
    else:
        make, x = small_downsampling_block, torch.randn(2, 8, 6, 6)
    reference = randomize_running_stats_(randomize_(make())).eval()
    compiled_model = make().eval()
    compiled_model.load_state_dict(reference.state_dict())
    compiled = torch.compile(compiled_model, backend=backend)
    results = []
    for model, fn in ((compiled, scale_add_relu), (reference, plain)):
        monkeypatch.setattr(se_blocks, 'scale_add_relu', fn)
        xi = x.clone().requires_grad_()
        out = model(xi)
        out = out if isinstance(out, tuple) else (out,)
        sum(f.square().mean() for f in out).backward()
        results.append([*out, xi.grad] + [p.grad for p in model.parameters()])
    assert len(results[0]) == len(results[1]) and all(t is not None for t in results[0])
    for ours, reference in zip(*results, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('dynamo', [True, False])
def test_onnx_export_matches_onnxruntime(dynamo, tmp_path):
    ort = pytest.importorskip('onnxruntime')
    has_dynamo_option = 'dynamo' in inspect.signature(torch.onnx.export).parameters
    if dynamo and not has_dynamo_option:
        pytest.skip(
            f'torch {torch.__version__} has no dynamo ONNX exporter in export() '
            '(its torch.onnx.dynamo_export is a prototype)'
        )
    model = randomize_(SEResNet(18, out_indices=(0, 1, 2, 3))).eval()
    x = torch.randn(2, 3, 64, 64)
    path = tmp_path / 'seresnet18.onnx'
    options = dict(dynamo=dynamo) if has_dynamo_option else {}
    torch.onnx.export(model, (x,), str(path), input_names=['x'], **options)
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    outputs = session.run(None, {'x': x.numpy()})
    expected = model(x)
    assert len(outputs) == len(expected) == 4
    for ours, reference in zip(outputs, expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(ours), reference, rtol=1e-4, atol=1e-4)


def test_bf16_autocast_is_as_close_to_float32_as_the_unfused_block(monkeypatch):
    """Under CPU autocast (bf16 convs) the fused function takes bf16 inputs and its outputs and
    gradients are no further from the float32 results than the unfused block's bf16 ones."""
    model = randomize_(SEResNet(18, out_indices=(0, 1, 2, 3))).train()
    x = torch.randn(2, 3, 64, 64)
    results = {}
    for fn, bf16 in ((plain, False), (scale_add_relu, True), (plain, True)):
        monkeypatch.setattr(se_blocks, 'scale_add_relu', fn)
        model.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        assert all(f.dtype == (torch.bfloat16 if bf16 else torch.float32) for f in out)
        sum(f.float().square().mean() for f in out).backward()
        grads = {True: [], False: []}  # SE layer parameters, the others
        for name, p in model.named_parameters():
            assert p.grad.dtype == torch.float32 and p.grad.isfinite().all()
            grads['se_layer' in name].append(p.grad.flatten())
        results[fn, bf16] = [torch.cat([f.detach().float().flatten() for f in out])] + [
            torch.cat(g) for g in grads.values()
        ]

    def errors(key):
        return [
            float((a - b).norm() / b.norm())
            for a, b in zip(results[key], results[plain, False], strict=True)
        ]

    for ours, unfused in zip(errors((scale_add_relu, True)), errors((plain, True)), strict=True):
        assert ours < 0.1 and ours <= 1.25 * unfused


def test_inplace_inference_writes_into_the_branch_and_rounds_as_the_formula():
    x, identity = torch.randn(2, 8, 5, 5), torch.randn(2, 8, 5, 5)
    gate = torch.rand(2, 8, 1, 1)
    expected = plain(x, gate, identity)
    with torch.no_grad():
        out = scale_add_relu(x, gate, identity, inplace=True)
    assert out.data_ptr() == x.data_ptr() and torch.equal(out, expected)


@pytest.mark.parametrize('train', [True, False])
def test_shortcut_recomputed_from_its_bn_input_gives_the_hand_derived_gradients(train):
    """With ``shortcut_bn`` the fused backward recomputes the shortcut from the BN's input (batch
    statistics in train mode, the running ones, here random, in eval mode; the BN's own eps,
    here far from the default); its gradients are
    those of relu(x * gate + identity) derived by hand: with m = [x * gate + identity > 0],
    d/dx = g m gate, d/dgate = sum_HW g m x, d/didentity = g m."""
    gen = torch.Generator().manual_seed(0)
    bn = randomize_running_stats_(randomize_(torch.nn.BatchNorm2d(16, eps=0.5))).train(train)
    bn_input = torch.randn(4, 16, 7, 7, generator=gen)
    x = torch.randn(4, 16, 7, 7, generator=gen, requires_grad=True)
    gate = torch.sigmoid(torch.randn(4, 16, 1, 1, generator=gen)).requires_grad_()
    grad = torch.randn(4, 16, 7, 7, generator=gen)
    identity = bn(bn_input).detach().requires_grad_()
    out = scale_add_relu(x, gate, identity, shortcut_bn=(bn_input, bn))
    out.backward(grad)
    with torch.no_grad():
        mask = (x * gate + identity > 0).float()
        torch.testing.assert_close(out, torch.relu(x * gate + identity))
        torch.testing.assert_close(x.grad, grad * mask * gate)
        torch.testing.assert_close(
            gate.grad, (grad * mask * x).sum((2, 3), keepdim=True), rtol=1e-5, atol=1e-5
        )
        torch.testing.assert_close(identity.grad, grad * mask)


def randomize_running_stats_(model, seed=1):
    """Random running statistics in every BN (means N(0, 1), variances in [0.5, 2]): far from
    each other and from the defaults, so normalising with the wrong ones shows."""
    gen = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=gen))
            module.running_var.copy_(
                torch.rand(module.running_var.shape, generator=gen) * 1.5 + 0.5
            )
    return model


def assert_close_at_scale(ours, expected, rel=1e-5):
    """Equal to float32 rounding at the tensor's scale: the fused backward sums other roundings
    (x * gate recovered as out - identity), so entries far below the largest differ by more
    than their own relative precision."""
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=rel * float(expected.abs().max()))


def gradients(module, x, fn, monkeypatch):
    """Input and parameter gradients of a fixed random projection of ``module(x)``, with
    ``fn`` as the block end (None for the input's if it needs none)."""
    monkeypatch.setattr(se_blocks, 'scale_add_relu', fn)
    module.zero_grad()
    out = module(x)
    feats = out if isinstance(out, (list, tuple)) else [out]
    gen = torch.Generator().manual_seed(2)
    sum((f * torch.randn(f.shape, generator=gen)).sum() for f in feats).backward()
    return [x.grad] + [p.grad for p in module.parameters() if p.requires_grad]


@pytest.mark.parametrize(
    'depth,stage', [(50, 1), (50, 2), (50, 3), (50, 4), (18, 2), (18, 3), (18, 4)]
)
def test_first_block_in_eval_mode_gradients_equal_the_plain_formulas(depth, stage, monkeypatch):
    """The first block of a stage (downsample conv + BN: its shortcut is recomputed in
    backward) with BN in eval mode (norm_eval=True, as in every detection config): the fused
    block's input and parameter gradients are the plain formula's."""
    model = randomize_running_stats_(randomize_(SEResNet(depth, base_channels=16)))
    block = getattr(model, f'layer{stage}')[0].eval()
    assert type(block.downsample[-1]) is torch.nn.BatchNorm2d and not block.downsample[-1].training
    x = torch.randn(2, block.conv1.in_channels, 8, 8, generator=torch.Generator().manual_seed(3))
    fused, reference = (
        gradients(block, x.clone().requires_grad_(), fn, monkeypatch)
        for fn in (scale_add_relu, plain)
    )
    assert len(fused) == len(reference) > 10
    for ours, expected in zip(fused, reference, strict=True):
        assert_close_at_scale(ours, expected)


def test_frozen_stage_and_norm_eval_backbone_gradients_equal_the_plain_formulas(monkeypatch):
    """The detection configs' backbone (frozen_stages=1, norm_eval=True) in train mode: BN in
    eval mode everywhere, stage 1 and its input without gradients; every trainable parameter's
    gradient is the plain formula's."""
    model = SEResNet(50, base_channels=16, frozen_stages=1, norm_eval=True)
    model = randomize_running_stats_(randomize_(model)).train()
    assert model.training and not model.layer3[0].downsample[1].training
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))  # no gradient
    grads = [gradients(model, x, fn, monkeypatch)[1:] for fn in (scale_add_relu, plain)]
    assert all(p.grad is None for p in model.layer1.parameters())
    assert len(grads[0]) == len(grads[1]) == sum(p.requires_grad for p in model.parameters())
    for ours, expected in zip(*grads, strict=True):
        assert_close_at_scale(ours, expected)


@pytest.mark.parametrize('norm', ['BN', 'GN'])
def test_block_with_downsample_gradients_equal_the_unfused_ones(norm, monkeypatch):
    """A first block (downsample conv + norm): BN shortcuts are recomputed, other norms kept."""
    norm_cfg = dict(type='GN', num_groups=4) if norm == 'GN' else dict(type='BN')
    downsample = torch.nn.Sequential(
        torch.nn.Conv2d(8, 32, 1, stride=2, bias=False), se_blocks.build_norm_layer(norm_cfg, 32)[1]
    )
    block = randomize_(
        se_blocks.SEBottleneck(
            8, 8, stride=2, downsample=downsample, norm_cfg=norm_cfg, se_cfg=dict(ratio=4)
        )
    ).train()
    assert (block.shortcut(torch.randn(2, 8, 6, 6))[1] is None) == (norm == 'GN')
    x = torch.randn(2, 8, 6, 6)
    grads = []
    for fn in (scale_add_relu, plain):
        monkeypatch.setattr(se_blocks, 'scale_add_relu', fn)
        block.zero_grad()
        xi = x.clone().requires_grad_()
        block(xi).square().mean().backward()
        grads.append([xi.grad] + [p.grad for p in block.parameters()])
    for ours, reference in zip(*grads, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    'grad,leaf,inplace,overwritten',
    [
        (False, True, None, False),  # the default: a new tensor
        (False, True, False, False),
        (False, True, True, True),
        (True, True, False, False),
        (True, True, True, False),  # a user's tensor that requires grad
        (True, False, False, False),
        (True, False, True, True),  # a block's temporary in training
    ],
)
def test_the_branch_is_overwritten_only_when_asked_and_never_a_leaf(
    grad, leaf, inplace, overwritten
):
    """``inplace`` writes into ``x`` (a block's own temporary, also in training); without it (the
    default) ``x`` keeps its values, and a leaf that requires grad (a user's tensor) is never
    overwritten."""
    gen = torch.Generator().manual_seed(0)
    x, identity = torch.randn(2, 4, 3, 3, generator=gen), torch.randn(2, 4, 3, 3, generator=gen)
    gate = torch.rand(2, 4, 1, 1, generator=gen)
    expected = plain(x, gate, identity)
    x.requires_grad_(grad)
    if not leaf:
        x = x * 1
    before = x.detach().clone()
    kwargs = {} if inplace is None else dict(inplace=inplace)
    out = scale_add_relu(x, gate, identity, **kwargs)
    torch.testing.assert_close(out, expected)
    assert (not torch.equal(x.detach(), before)) == overwritten


def test_a_leaf_that_requires_grad_is_not_overwritten_under_no_grad_either():
    x = torch.rand(1, 2, 3, 3, requires_grad=True)
    before = x.detach().clone()
    with torch.no_grad():
        scale_add_relu(x, torch.rand(1, 2, 1, 1), torch.rand(1, 2, 3, 3), inplace=True)
    assert torch.equal(x.detach(), before)


def test_gate_gradient_for_a_gate_near_zero():
    """A ReLU gate can be tiny (1e-20 here, far below float32's eps): its gradient is still
    sum_HW(grad * x) where the output is positive (x * gate is recovered exactly here, with a
    zero shortcut)."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(1, 3, 4, 4, generator=gen) + 0.5).requires_grad_()
    gate = torch.tensor([1e-20, 0.5, 1.0]).view(1, 3, 1, 1).requires_grad_()
    identity = torch.zeros(1, 3, 4, 4, requires_grad=True)
    grad = torch.randn(1, 3, 4, 4, generator=gen)
    scale_add_relu(x, gate, identity).backward(grad)
    torch.testing.assert_close(gate.grad, (grad * x).sum((2, 3), keepdim=True).detach())


def test_shortcut_bn_without_running_stats_recomputes_with_batch_stats():
    """A BN that tracks no running statistics normalises with the batch's in eval mode too;
    the recomputed shortcut does the same (hand-derived gradients, as above)."""
    gen = torch.Generator().manual_seed(0)
    bn = randomize_(torch.nn.BatchNorm2d(8, track_running_stats=False)).eval()
    bn_input = torch.randn(4, 8, 5, 5, generator=gen)
    x = torch.randn(4, 8, 5, 5, generator=gen, requires_grad=True)
    gate = torch.sigmoid(torch.randn(4, 8, 1, 1, generator=gen)).requires_grad_()
    grad = torch.randn(4, 8, 5, 5, generator=gen)
    identity = bn(bn_input).detach().requires_grad_()
    scale_add_relu(x, gate, identity, shortcut_bn=(bn_input, bn)).backward(grad)
    with torch.no_grad():
        mask = (x * gate + identity > 0).float()
        torch.testing.assert_close(
            gate.grad, (grad * mask * x).sum((2, 3), keepdim=True), rtol=1e-5, atol=1e-5
        )
        torch.testing.assert_close(identity.grad, grad * mask)


def test_a_trace_recording_autograd_saves_the_plain_formula():
    """Traced where autograd records the block end (in training), it records the plain
    formula's standard ops, which ``torch.jit.save`` writes, not our autograd Function (a
    Python op TorchScript cannot save)."""
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    gate = torch.rand(2, 3, 1, 1, requires_grad=True)
    identity = torch.randn(2, 3, 4, 4, requires_grad=True)
    traced = torch.jit.trace(scale_add_relu, (x, gate, identity))
    assert {'aten::mul', 'aten::add', 'aten::relu'} <= set(
        re.findall(r'aten::\w+', str(traced.inlined_graph))
    )
    torch.jit.save(traced, io.BytesIO())
    torch.testing.assert_close(traced(x, gate, identity), plain(x, gate, identity))


def test_bfloat16_gate_gradient_is_the_float32_sum_rounded_once():
    """The gate's gradient, sum_HW g m x (here 64 + 64 + 64 + 65 = 257), is summed and divided
    in float32 and rounded to bfloat16 once: 256, the plain formula's float32 gradient rounded.
    (Rounded twice, the sum 0.75 * 257 = 192.75 to 193 and 193 / 0.75 again, it is 258.)"""
    bf16 = torch.bfloat16
    x = torch.tensor([64.0, 64.0, 64.0, 65.0], dtype=bf16).view(1, 1, 2, 2).requires_grad_()
    gate = torch.full((1, 1, 1, 1), 0.75, dtype=bf16, requires_grad=True)
    identity = torch.zeros(1, 1, 2, 2, dtype=bf16, requires_grad=True)
    scale_add_relu(x, gate, identity).sum().backward()
    reference = gate.detach().float().requires_grad_()
    plain(x.detach().float(), reference, identity.detach().float()).sum().backward()
    assert reference.grad.item() == 257.0
    assert gate.grad.dtype == bf16 and gate.grad.item() == reference.grad.to(bf16).item() == 256.0
