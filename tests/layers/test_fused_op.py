"""The compiled SE block end (se_backbones/layers/csrc) against the PyTorch formulas it
replaces, and the conditions under which each runs."""
import importlib
import os

import pytest
import torch

from se_backbones import SEResNet
from se_backbones.layers import fused_op
from se_backbones.weights.equivalence import randomize_

# the module (the package's name scale_add_relu is the function)
sar = importlib.import_module('se_backbones.layers.scale_add_relu')

needs_op = pytest.mark.skipif(sar.OP is None, reason='compiled op not built '
                              '(python -m se_backbones.build_ops)')


def test_setup_builds_the_op():
    """tools/setup.sh compiles it, so the test runs (tools/test.sh) exercise it."""
    if not os.environ.get('SE_BACKBONES_STACK'):
        pytest.skip('not under tools/test.sh')
    assert sar.OP is not None, fused_op.build_dir()


def counting(monkeypatch):
    calls = []
    if sar.OP is not None:
        op = sar.OP

        class Counting:
            def forward(self, *args):
                calls.append('forward')
                return op.forward(*args)

            def backward(self, *args):
                calls.append('backward')
                return op.backward(*args)

        monkeypatch.setattr(sar, 'OP', Counting())
    return calls


def inputs(shape, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, identity = (torch.randn(shape, generator=g, dtype=dtype) for _ in range(2))
    gate = torch.rand(*shape[:2], 1, 1, generator=g, dtype=dtype)
    return x, gate, identity


def formula_grads(x, gate, identity, grad):
    """An independent reference: autograd through relu(x * gate + identity)."""
    leaves = [t.clone().requires_grad_() for t in (x, gate, identity)]
    out = torch.relu(leaves[0] * leaves[1] + leaves[2])
    out.backward(grad)
    return out.detach(), [t.grad for t in leaves]


@needs_op
@pytest.mark.parametrize('shape', [(2, 3, 5, 7), (2, 16, 8, 8), (1, 4, 1, 1), (3, 5, 13, 11)])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_op_forward_and_backward_equal_the_formula(shape, dtype, monkeypatch):
    calls = counting(monkeypatch)
    x, gate, identity = inputs(shape, dtype)
    grad = torch.randn(shape, dtype=dtype)
    expected, expected_grads = formula_grads(x, gate, identity, grad)
    leaves = [t.clone().requires_grad_() for t in (x, gate, identity)]
    out = sar.scale_add_relu(*leaves)
    out.backward(grad)
    assert calls == ['forward', 'backward']
    assert torch.equal(out, expected)  # the same rounding: product, then sum
    # the gate's gradient recovers x * gate as out - identity: float32 cancellation, 1e-4
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    for got, want in zip([t.grad for t in leaves], expected_grads):
        torch.testing.assert_close(got, want, rtol=tol, atol=tol)


@needs_op
def test_op_inplace_inference_writes_into_x(monkeypatch):
    calls = counting(monkeypatch)
    x, gate, identity = inputs((2, 8, 6, 6), torch.float32)
    expected = torch.relu(x * gate + identity)
    with torch.no_grad():
        out = sar.scale_add_relu(x, gate, identity, inplace=True)
    assert calls == ['forward'] and out.data_ptr() == x.data_ptr() and torch.equal(out, expected)


@needs_op
def test_op_gradcheck_float64():
    x, gate, identity = (t.requires_grad_() for t in inputs((2, 3, 4, 5), torch.float64))
    gate.data.add_(0.1)
    assert torch.autograd.gradcheck(sar.scale_add_relu, (x, gate, identity))


@needs_op
@pytest.mark.parametrize('case', ['channels_last', 'bfloat16', 'broadcast_identity'])
def test_what_the_op_cannot_take_runs_the_formula(case, monkeypatch):
    calls = counting(monkeypatch)
    x, gate, identity = inputs((2, 8, 6, 6), torch.float32)
    if case == 'channels_last':
        x, identity = (t.to(memory_format=torch.channels_last) for t in (x, identity))
    elif case == 'bfloat16':
        x, gate, identity = (t.bfloat16() for t in (x, gate, identity))
    else:
        identity = identity[:1]
    expected = torch.relu(x * gate + identity)
    x.requires_grad_()
    out = sar.scale_add_relu(x, gate, identity)
    out.sum().backward()
    assert calls == [] and torch.equal(out, expected)


@needs_op
@pytest.mark.parametrize('norm_eval', [False, True])
def test_backbone_train_step_with_the_op_equals_the_formulas(norm_eval, monkeypatch):
    """A whole SE-R50 (BN-shortcut recompute included) with the op and without it."""
    model = randomize_(SEResNet(50, out_indices=(0, 1, 2, 3), norm_eval=norm_eval)).train()
    x = torch.randn(2, 3, 64, 64)
    results = []
    for op in (sar.OP, None):
        monkeypatch.setattr(sar, 'OP', op)
        model.zero_grad()
        outs = model(x)
        sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum() for o in outs).backward()
        results.append(([o.detach() for o in outs],
                        [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (outs_op, grads_op), (outs_py, grads_py) = results
    assert all(torch.equal(a, b) for a, b in zip(outs_op, outs_py))
    assert len(grads_op) == len(grads_py) > 100
    # float32 sums in another order: per-parameter error relative to the gradient's scale
    assert max(((a - b).abs().max() / b.abs().max()).item()
               for a, b in zip(grads_op, grads_py)) < 1e-4


def test_disabled_or_missing_op_loads_as_none(monkeypatch, tmp_path):
    monkeypatch.setenv('SE_BACKBONES_OPS_DIR', str(tmp_path))  # nothing built there
    assert fused_op.load() is None
    monkeypatch.delenv('SE_BACKBONES_OPS_DIR')
    monkeypatch.setenv(fused_op.DISABLE_ENV, '1')
    assert fused_op.load() is None


def test_a_broken_build_warns_and_loads_as_none(monkeypatch, tmp_path):
    monkeypatch.setenv('SE_BACKBONES_OPS_DIR', str(tmp_path))
    os.makedirs(fused_op.build_dir())
    with open(os.path.join(fused_op.build_dir(), fused_op.NAME + '.so'), 'w') as file:
        file.write('not a shared object')
    with pytest.warns(UserWarning, match='build_ops'):
        assert fused_op.load() is None
    importlib.reload(fused_op)


def test_check_says_whether_the_op_is_in_use(monkeypatch, tmp_path, capsys):
    from se_backbones.build_ops import main
    assert main(['--check']) == (0 if sar.OP is not None else 1)
    assert ('in use: ' + sar.OP.__file__ if sar.OP is not None else 'not built for torch'
            ) in capsys.readouterr().out
    monkeypatch.setattr(sar, 'OP', None)
    monkeypatch.setenv('SE_BACKBONES_OPS_DIR', str(tmp_path))
    assert main(['--check']) == 1
    assert f'not built for torch {torch.__version__}' in capsys.readouterr().out
    assert 'se_backbones.build_ops' in fused_op.status()[1]
    monkeypatch.setenv(fused_op.DISABLE_ENV, '1')
    assert fused_op.status() == (False, 'not in use: turned off by SE_BACKBONES_NO_FUSED_OP=1')
