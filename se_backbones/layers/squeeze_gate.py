"""The squeeze (global pooling) and gate (excitation activation) choices of the SENet paper's
ablations (Hu et al., Tables 11 and 12), shared by SELayer and ECALayer."""
from ..checks import check_choice

SQUEEZES = ('avg', 'max', 'avgmax')
# name -> activation config; all but tanh are >= 0 and flat where they are 0, which the fused
# SE block end (scale_add_relu) needs
GATES = {'sigmoid': dict(type='Sigmoid'), 'hsigmoid': dict(type='HSigmoid'),
         'tanh': dict(type='Tanh'), 'relu': dict(type='ReLU')}
FUSABLE_GATES = ('Sigmoid', 'HSigmoid', 'ReLU')


def check_squeeze(owner, squeeze):
    check_choice(owner, 'squeeze', squeeze, SQUEEZES)


def gate_cfg(owner, gate):
    """The activation config of a gate name."""
    check_choice(owner, 'gate', gate, tuple(GATES))
    return dict(GATES[gate])


def squeeze(x, mode):
    """One value per channel of ``x`` (N, C, H, W) -> (N, C, 1, 1): the mean (the paper's
    choice), the max, or their average (timm's 'avgmax')."""
    if mode == 'avg':
        return x.mean((2, 3), keepdim=True)
    if mode == 'max':
        return x.amax((2, 3), keepdim=True)
    return 0.5 * (x.mean((2, 3), keepdim=True) + x.amax((2, 3), keepdim=True))


def is_fusable(act_cfg):
    """Whether a gate activation suits the fused scale-add-ReLU (see :data:`FUSABLE_GATES`)."""
    return act_cfg is not None and act_cfg.get('type') in FUSABLE_GATES
