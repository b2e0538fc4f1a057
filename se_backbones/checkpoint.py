"""Loading MMEngine's own training checkpoints under torch>=2.6's ``weights_only=True``."""
import torch


def allow_mmengine_checkpoints():
    """Allow the few non-tensor types MMEngine writes into its checkpoints (the message hub's
    ``HistoryBuffer`` and the numpy arrays in it), so ``--resume`` works while every load
    keeps ``weights_only=True``: a checkpoint that carries code is still refused."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals([
        HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
        type(np.dtype(np.float64)), type(np.dtype(np.int64)), np.float64, np.int64
    ])
